/**
 * Slack incoming webhook (providers.md §6): POST {text}, success is HTTP 200
 * with body "ok"; errors are plain-text codes (invalid_payload, no_service...).
 * 500 and 429 are worth retrying, everything else is a configuration problem.
 * Slack has no idempotency key: de-duplication is the caller's job.
 */
import { postWebhook, type WebhookOptions, type WebhookSender } from './webhook';

/** Slack truncates beyond ~40 000 characters; stay well under. */
const MAX_TEXT = 3_000;

export function createSlackWebhook(opts: WebhookOptions): WebhookSender {
  return {
    async send(text) {
      await postWebhook('slack', opts, { text: text.slice(0, MAX_TEXT) });
    },
  };
}
