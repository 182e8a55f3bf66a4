/**
 * Starting a notification. One workflow per event key (`notify-<eventKey>`),
 * so the same event raised twice (a retried activity, two stuck watchers, a
 * replay) never creates a second delivery. Safe to import from workflow code:
 * nothing here touches Node, the database or the environment.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Channel, NotificationEvent } from './config';
import { NOTIFICATION_WORKFLOW, notificationWorkflowId } from '../shared/workflow-ids';
import { temporalWorkflowUrl } from '../shared/temporal-ui';
import { notificationWorkflowMetadata } from '../shared/workflow-metadata';

export interface NotificationRequest {
  /** Unique per real-world event, e.g. notificationEventKey('failed', jobId). */
  eventKey: string;
  event: NotificationEvent;
  text: string;
  /** Channels to post to; default: those configured for this event on the worker (SLACK_/DISCORD_WEBHOOK_URL, NOTIFY_EVENTS). */
  channels?: Channel[];
}

/** The key of "this subject reached this event"; a subject reaches each event at most once. */
export function notificationEventKey(event: NotificationEvent, subjectId: string): string {
  return `${subjectId}:${event}`;
}

/** The subject of the one message a day (UTC) about failed competitor videos, per deployment (its base queue). */
export function competitorFailuresKey(taskQueue: string, at: Date): string {
  return `competitor-videos:${taskQueue}:${at.toISOString().slice(0, 10)}`;
}

export const EVENT_LABEL: Record<NotificationEvent, string> = {
  completed: '✅ Completed',
  partially_published: '⚠️ Partly published',
  failed: '❌ Failed',
  stuck: '⚠️ Stuck',
  expired: '⌛ Expired',
  approval: '✋ Waiting for approval',
  no_workers: '🚨 No worker',
  quota_parked: '⛽ Quota spent',
};

/**
 * Characters a message's list may take: Discord takes 2000 in all and cuts the rest (src/notifications/discord.ts),
 * so the lines past it are counted instead, and the count survives.
 */
export const LIST_BUDGET = 1_600;

/** `lines` as one text within LIST_BUDGET (the first always), the rest counted by `more`. */
export function listWithin(lines: readonly string[], more: (left: number) => string): string {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (kept.length > 0 && used + line.length > LIST_BUDGET) break;
    kept.push(line);
    used += line.length + 1;
  }
  if (lines.length > kept.length) kept.push(more(lines.length - kept.length));
  return kept.join('\n');
}

/** A one-message summary operators can act on. */
export function notificationText(args: {
  event: NotificationEvent;
  title: string;
  priority?: string | null;
  provider?: string | null;
  workflowId?: string | null;
  error?: string | null;
  /** Temporal Web UI base, e.g. env.TEMPORAL_UI_URL; adds a link to the workflow. */
  temporalUiUrl?: string | null;
  namespace?: string;
}): string {
  const head = [EVENT_LABEL[args.event], args.priority ? `[${args.priority}]` : '', args.title, args.provider ? `(${args.provider})` : '']
    .filter(Boolean)
    .join(' ');
  const lines = [head];
  // For an approval the text says what to review, not what went wrong.
  if (args.error) lines.push(`${args.event === 'approval' ? 'Review' : 'Error'}: ${args.error}`);
  if (args.workflowId) {
    lines.push(
      args.temporalUiUrl
        ? temporalWorkflowUrl({ uiUrl: args.temporalUiUrl, namespace: args.namespace, workflowId: args.workflowId })
        : `Workflow: ${args.workflowId}`,
    );
  }
  return lines.join('\n');
}

/** Re-running is allowed only after a failed run (e.g. a webhook URL fixed); a delivered event is never re-run. */
export const NOTIFICATION_ID_REUSE_POLICY = 'ALLOW_DUPLICATE_FAILED_ONLY' as const;

/**
 * Starts the notification workflow on `taskQueue` (the base queue, where the
 * notification activities are registered). `started` is false when this event
 * already has (or had) its workflow.
 */
export async function startNotification(
  client: Client,
  taskQueue: string,
  input: NotificationRequest,
): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = notificationWorkflowId(input.eventKey);
  try {
    await client.workflow.start(NOTIFICATION_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [input],
      ...notificationWorkflowMetadata(input),
      // The default conflict policy (fail) is what tells a duplicate apart: running or finished, it throws.
      workflowIdReusePolicy: NOTIFICATION_ID_REUSE_POLICY,
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}
