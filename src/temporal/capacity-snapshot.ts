/** Starting and asking the deployment's capacity workflow (src/workflows/capacity-snapshot.ts). */
import type { Client } from '@temporalio/client';
import type { capacityWorkflow } from '../workflows/capacity-snapshot';
import { capacityQuery, refreshCapacityUpdate, type CapacitySnapshot } from '../shared/messages';
import { CAPACITY_WORKFLOW, capacityWorkflowId } from '../shared/workflow-ids';
import { capacityWorkflowMetadata } from '../shared/workflow-metadata';

/** Starts it unless it runs already: every worker process calls this on start-up. */
export async function ensureCapacityWorkflow(client: Client, baseTaskQueue: string, refreshMs?: number): Promise<string> {
  const workflowId = capacityWorkflowId(baseTaskQueue);
  await client.workflow.start<typeof capacityWorkflow>(CAPACITY_WORKFLOW, {
    taskQueue: baseTaskQueue,
    workflowId,
    args: [{ refreshMs }],
    ...capacityWorkflowMetadata(baseTaskQueue),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return workflowId;
}

/** Fresh numbers: the workflow reads get_available_capacity now and answers. */
export function refreshCapacity(client: Client, baseTaskQueue: string): Promise<CapacitySnapshot> {
  return client.workflow.getHandle(capacityWorkflowId(baseTaskQueue)).executeUpdate(refreshCapacityUpdate);
}

/** The snapshot as it stands (at most refreshMs old), without waiting for a read. */
export function queryCapacity(client: Client, baseTaskQueue: string): Promise<CapacitySnapshot> {
  return client.workflow.getHandle(capacityWorkflowId(baseTaskQueue)).query(capacityQuery);
}
