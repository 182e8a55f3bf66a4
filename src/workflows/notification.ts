/**
 * Posts one event to each configured channel. Retries forever (backoff
 * capped at 1 min) so a Slack or Discord outage delays a message but never
 * loses it; the activity's notifications_sent row keeps retries from posting
 * twice. Workflow code: type-only imports of activities, no Node.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { NotificationActivities, DeliveryOutcome } from '../notifications/activities';
import type { Channel } from '../notifications/config';
import { NOTIFICATION_ID_REUSE_POLICY, type NotificationRequest } from '../notifications/notify';
import { notificationWorkflowId } from '../shared/workflow-ids';
import { notificationWorkflowMetadata } from '../shared/workflow-metadata';

const { notificationChannels, deliverNotification } = wf.proxyActivities<NotificationActivities>({
  // Above the webhook timeout (NOTIFY_TIMEOUT_MS, at most 60 s) plus a wait for the row lock of an overlapping attempt.
  startToCloseTimeout: '2 minutes',
  // No maximumAttempts: unlimited.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface NotificationResult {
  eventKey: string;
  deliveries: Partial<Record<Channel, DeliveryOutcome>>;
}

export async function notificationWorkflow(input: NotificationRequest): Promise<NotificationResult> {
  const channels = input.channels ?? (await notificationChannels(input.event));
  const settled = await Promise.allSettled(
    channels.map((channel) => deliverNotification({ eventKey: input.eventKey, event: input.event, text: input.text, channel })),
  );
  const deliveries: NotificationResult['deliveries'] = {};
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') deliveries[channels[i]!] = r.value;
  });
  // Only a refused message (bad payload, revoked webhook) lands here; let the run fail so it shows in the Web UI.
  const refused = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (refused) throw refused.reason;
  return { eventKey: input.eventKey, deliveries };
}

/**
 * From another workflow: start the notification as an abandoned child, so the
 * caller neither waits for a slow webhook nor cancels the message when it ends.
 * A second call for the same event key is a no-op.
 */
export async function notifyFromWorkflow(input: NotificationRequest): Promise<void> {
  try {
    await wf.startChild(notificationWorkflow, {
      workflowId: notificationWorkflowId(input.eventKey),
      args: [input],
      ...notificationWorkflowMetadata(input),
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: NOTIFICATION_ID_REUSE_POLICY,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
