import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';

/**
 * A workflow's ActivityTaskStarted events for one activity type, oldest first: one per run that ended (Temporal
 * writes a retried attempt's start only with its end, at the time the attempt was handed to a worker's poll), each
 * with its attempt and what ended the attempt before it (lastFailure). Read by the fault tests and the bench's faults
 * scenario.
 */
export async function activityStarts(client: Client, workflowId: string, activityType: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(
    events.flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name === activityType ? [String(e.eventId)] : [])),
  );
  return events.flatMap((e) => {
    const a = e.activityTaskStartedEventAttributes;
    if (!a || !scheduled.has(String(a.scheduledEventId))) return [];
    return [{ attempt: a.attempt ?? 1, lastFailure: a.lastFailure ?? undefined, startedAt: tsToMs(e.eventTime) }];
  });
}
