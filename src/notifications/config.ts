/**
 * Which events are announced where, from the environment:
 *   SLACK_WEBHOOK_URL, DISCORD_WEBHOOK_URL   a channel is on when its URL is set
 *   NOTIFY_EVENTS                            default: every event (completed,partially_published,failed,stuck,expired,
 *                                            approval,no_workers,quota_parked)
 *   SLACK_NOTIFY_EVENTS, DISCORD_NOTIFY_EVENTS  per-channel override of NOTIFY_EVENTS
 *   NOTIFY_NO_WORKER_AFTER_MS                 how long a task queue goes without a live worker before the API says so
 *                                             (no_workers; default 120 000: a deploy's restarts stay under it)
 * Parsed here rather than in config/env.ts because only the notification
 * activities and their starters read it.
 */
import { z } from 'zod';
import { parseEnv } from '../config/env';

/**
 * approval: a recommendation waits for an editor's decision (before its render, or before posting). no_workers: a task
 * queue has had no live worker for NOTIFY_NO_WORKER_AFTER_MS, or the Temporal server no answer (and when that ends).
 * quota_parked: a provider said a quota is spent (credits, a daily cap, a bot check) and its jobs wait for it.
 */
export const NOTIFICATION_EVENTS = [
  'completed',
  'partially_published',
  'failed',
  'stuck',
  'expired',
  'approval',
  'no_workers',
  'quota_parked',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export const CHANNELS = ['slack', 'discord'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface NotificationConfig {
  /** Webhook URL per enabled channel; the URL is the secret, never log it. */
  webhooks: Partial<Record<Channel, string>>;
  /** Events each enabled channel receives. */
  events: Partial<Record<Channel, NotificationEvent[]>>;
  /**
   * Per-request timeout. Kept well under the activity's start-to-close timeout
   * so a slow POST is never overlapped by its retry. Default 10 000 ms.
   */
  timeoutMs: number;
  /** How long a task queue goes without a live worker before it is announced (no_workers). */
  noWorkerAfterMs: number;
}

const eventList = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(z.enum(NOTIFICATION_EVENTS, { errorMap: () => ({ message: `must list events among ${NOTIFICATION_EVENTS.join(', ')}` }) })),
  );

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

export const notificationEnvSchema = z.object({
  SLACK_WEBHOOK_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  DISCORD_WEBHOOK_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  NOTIFY_EVENTS: eventList.default(NOTIFICATION_EVENTS.join(',')),
  SLACK_NOTIFY_EVENTS: z.preprocess(emptyAsUndefined, eventList.optional()),
  DISCORD_NOTIFY_EVENTS: z.preprocess(emptyAsUndefined, eventList.optional()),
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  NOTIFY_NO_WORKER_AFTER_MS: z.coerce.number().int().min(0).max(86_400_000).default(120_000),
});

export function loadNotificationConfig(source: Readonly<Record<string, string | undefined>> = process.env): NotificationConfig {
  const env = parseEnv(notificationEnvSchema, source);
  const config: NotificationConfig = {
    webhooks: {},
    events: {},
    timeoutMs: env.NOTIFY_TIMEOUT_MS,
    noWorkerAfterMs: env.NOTIFY_NO_WORKER_AFTER_MS,
  };
  const channel = (name: Channel, url: string | undefined, events: NotificationEvent[] | undefined) => {
    if (!url) return;
    config.webhooks[name] = url;
    config.events[name] = events ?? env.NOTIFY_EVENTS;
  };
  channel('slack', env.SLACK_WEBHOOK_URL, env.SLACK_NOTIFY_EVENTS);
  channel('discord', env.DISCORD_WEBHOOK_URL, env.DISCORD_NOTIFY_EVENTS);
  return config;
}

/** The channels that announce this event (possibly none). */
export function channelsFor(config: NotificationConfig, event: NotificationEvent): Channel[] {
  return CHANNELS.filter((c) => config.webhooks[c] && config.events[c]?.includes(event));
}
