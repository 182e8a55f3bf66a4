import type { Client } from '@temporalio/client';

/**
 * A workflow's ActivityTaskStarted events for one activity type, oldest first: one per run that ended (Temporal
 * writes a retried attempt's start only with its end), each with its attempt and what ended the attempt before it
 * (lastFailure). Read by the fault tests and the bench's faults scenario.
 */
export async function activityStarts(client: Client, workflowId: string, activityType: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(
    events.flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name === activityType ? [String(e.eventId)] : [])),
  );
  return events.flatMap((e) => {
    const a = e.activityTaskStartedEventAttributes;
    return a && scheduled.has(String(a.scheduledEventId)) ? [a] : [];
  });
}
