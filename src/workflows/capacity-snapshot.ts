/**
 * capacityWorkflow: the deployment's provider capacity, answerable as a
 * Temporal query. A query handler cannot read the database, so the workflow
 * keeps a snapshot of get_available_capacity (the same SQL the CLI and the
 * API call) and refreshes it every refreshMs; the refreshCapacity update
 * reads at once and answers with the fresh numbers.
 *
 * One per base task queue (capacityWorkflowId), started by the workers with
 * "use existing" so any number of worker processes share it. It runs for
 * ever: continue-as-new every roundsPerRun reads keeps its history small.
 */
import * as wf from '@temporalio/workflow';
import type { createCapacityActivities } from '../activities/capacity-snapshot';
import { capacityQuery, refreshCapacityUpdate, type CapacitySnapshot } from '../shared/messages';

export interface CapacityWorkflowInput {
  /** How old the query's answer may be. Default 5 s. */
  refreshMs?: number;
  /** Reads per run before continue-as-new. Default 500 (about 3,000 history events, and 5 more per refresh update). */
  roundsPerRun?: number;
}

// A local activity: one quick SQL read, no task-queue round trip, a marker in history.
const { readCapacitySnapshot } = wf.proxyLocalActivities<ReturnType<typeof createCapacityActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function capacityWorkflow(input: CapacityWorkflowInput = {}): Promise<never> {
  // Runs from before also asked Temporal's suggestion to continue as new, right after a local activity: a query
  // answered while that activity ran splits the workflow task, and a replay read the earlier task's suggestion (the
  // other branch: a workflow that can never be replayed; src/workflows/patches.ts). The count of reads replays alike.
  // Decided first, before any local activity. (Even 2,000 refresh updates in a run stay far below Temporal's limit.)
  const readsOnly = wf.patched('capacity-continues-by-reads');
  const refreshMs = input.refreshMs ?? 5_000;
  const roundsPerRun = input.roundsPerRun ?? 500;
  let snapshot: CapacitySnapshot = { asOf: null, providers: [] };
  // Refresh tickets: an update waits until a read that began after it was asked for has finished.
  let asked = 0;
  let served = 0;

  wf.setHandler(capacityQuery, () => snapshot);
  wf.setHandler(refreshCapacityUpdate, async () => {
    const ticket = ++asked;
    await wf.condition(() => served >= ticket);
    return snapshot;
  });

  for (let round = 1; ; round++) {
    const ticket = asked;
    snapshot = await readCapacitySnapshot();
    served = ticket;
    const more = round < roundsPerRun && (readsOnly || !wf.workflowInfo().continueAsNewSuggested);
    if (more) {
      await wf.condition(() => asked > served, refreshMs);
      continue;
    }
    // Answer every refresh asked for before the history is cut; one asked meanwhile gets another read.
    await wf.condition(() => asked > served || wf.allHandlersFinished());
    if (asked === served) break;
  }
  return wf.continueAsNew<typeof capacityWorkflow>(input);
}
