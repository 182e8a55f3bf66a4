/**
 * Delivering one notification to one channel, at most once per event key.
 *
 * The notifications_sent row of `<eventKey>:<channel>` is locked (FOR UPDATE)
 * for the whole POST and marked delivered in the same transaction, so a
 * retry, or an overlapping attempt after an activity timeout, waits and then
 * finds it delivered instead of posting again. A webhook outage throws a
 * retryable failure and the workflow's unlimited retries deliver it later.
 * The one gap no webhook lets us close: the process dying between Slack's 200
 * and our COMMIT means the retry posts a second time (webhooks have no
 * idempotency key, providers.md §6).
 */
import { Context } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { classifyFailure } from '../activities/failures';
import type { Database } from '../db/client';
import { notificationsSent } from '../db/schema';
import { ProviderError } from '../providers/errors';
import { channelsFor, loadNotificationConfig, type Channel, type NotificationConfig, type NotificationEvent } from './config';
import { createDiscordWebhook } from './discord';
import { createSlackWebhook } from './slack';
import type { WebhookSender } from './webhook';

export interface DeliverNotificationInput {
  eventKey: string;
  event: NotificationEvent;
  text: string;
  channel: Channel;
}

/** 'not_configured': the worker has no webhook URL for that channel (nothing to retry). */
export type DeliveryOutcome = 'delivered' | 'already_delivered' | 'not_configured';

export interface NotificationActivityDeps {
  database: Database;
  log: Logger;
  /** Where SLACK_WEBHOOK_URL, DISCORD_WEBHOOK_URL and NOTIFY_EVENTS are read. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Already-parsed configuration; wins over `env`. */
  config?: NotificationConfig;
  /** Replaces the HTTP senders (tests). */
  senders?: Partial<Record<Channel, WebhookSender>>;
}

/** The notifications_sent key of one channel's delivery of one event. */
export function deliveryKey(eventKey: string, channel: Channel): string {
  return `${eventKey}:${channel}`;
}

export function createNotificationActivities(deps: NotificationActivityDeps) {
  const config = deps.config ?? loadNotificationConfig(deps.env);
  const senders: Partial<Record<Channel, WebhookSender>> = {};
  if (config.webhooks.slack) senders.slack = createSlackWebhook({ url: config.webhooks.slack, timeoutMs: config.timeoutMs });
  if (config.webhooks.discord) senders.discord = createDiscordWebhook({ url: config.webhooks.discord, timeoutMs: config.timeoutMs });
  Object.assign(senders, deps.senders);
  const { db } = deps.database;

  return {
    /** Channels configured on this worker for an event. */
    async notificationChannels(event: NotificationEvent): Promise<Channel[]> {
      return channelsFor(config, event).filter((c) => senders[c]);
    },

    async deliverNotification(input: DeliverNotificationInput): Promise<DeliveryOutcome> {
      const log = deps.log.child({ eventKey: input.eventKey, channel: input.channel, event: input.event, ...activityIds() });
      const sender = senders[input.channel];
      if (!sender) {
        log.warn('notification channel has no webhook URL configured; skipped');
        return 'not_configured';
      }
      const key = deliveryKey(input.eventKey, input.channel);
      try {
        const outcome = await db.transaction(async (tx) => {
          await tx.insert(notificationsSent).values({ eventKey: key, channel: input.channel }).onConflictDoNothing();
          const [row] = await tx
            .select({ delivered: notificationsSent.delivered })
            .from(notificationsSent)
            .where(eq(notificationsSent.eventKey, key))
            .for('update');
          if (row?.delivered) return 'already_delivered' as const;
          await sender.send(input.text);
          await tx.update(notificationsSent).set({ delivered: true, deliveredAt: new Date() }).where(eq(notificationsSent.eventKey, key));
          return 'delivered' as const;
        });
        log.info({ outcome }, outcome === 'delivered' ? 'notification delivered' : 'notification already delivered; not sent again');
        return outcome;
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        const { failure, retryable } = classifyFailure(err);
        log[retryable ? 'warn' : 'error'](
          { err: err.message, kind: err.kind },
          retryable ? 'webhook failed; will retry' : 'webhook refused the message',
        );
        // Refused for good: its workflow fails, seen only in Temporal's Web UI. Kept here, the dashboard says so until
        // the message is delivered (a revoked URL refuses every alert after it).
        if (!retryable) {
          const refused = { refusedAt: new Date(), refusedReason: err.message, message: input.text };
          await db
            .insert(notificationsSent)
            .values({ eventKey: key, channel: input.channel, ...refused })
            // Not over a delivery another attempt made meanwhile (a worker with the fixed URL).
            .onConflictDoUpdate({ target: notificationsSent.eventKey, set: refused, setWhere: sql`NOT ${notificationsSent.delivered}` })
            .catch((dbErr: unknown) => log.warn({ err: dbErr }, 'could not record the refused message'));
        }
        throw failure;
      }
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;

function activityIds(): { workflowId?: string | undefined; attempt?: number } {
  try {
    const info = Context.current().info;
    return { workflowId: info.workflowExecution?.workflowId, attempt: info.attempt };
  } catch {
    // Called outside an activity (tests, scripts).
    return {};
  }
}
