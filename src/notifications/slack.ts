/**
 * Slack incoming webhook (providers.md §6): POST {text}, success is HTTP 200
 * with body "ok"; errors are plain-text codes (invalid_payload, no_service...).
 * 500 and 429 are worth retrying, everything else is a configuration problem.
 * Slack has no idempotency key: de-duplication is the caller's job.
 */
import { postWebhook, type WebhookOptions, type WebhookSender } from './webhook';

/** Slack truncates beyond ~40 000 characters; stay well under. */
const MAX_TEXT = 3_000;

/**
 * Slack reads `<…>` as a link or a mention (`<!channel>` pings everyone) and `&` as the start of
 * an entity; our texts carry titles from competitor videos, so they are escaped as Slack asks
 * (only these three characters). Cut before escaping so no entity is cut in half.
 */
function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function createSlackWebhook(opts: WebhookOptions): WebhookSender {
  return {
    async send(text) {
      await postWebhook('slack', opts, { text: escapeSlackText(text.slice(0, MAX_TEXT)) });
    },
  };
}
