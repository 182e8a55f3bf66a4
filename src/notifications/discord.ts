/**
 * Discord execute-webhook (providers.md §6): POST {content}, success is 204
 * (or 200 with wait=true). A 429 carries Retry-After and a JSON body with
 * retry_after in fractional seconds; limits must be read, not assumed.
 * No idempotency key: de-duplication is the caller's job.
 */
import { z } from 'zod';
import { ProviderError } from '../providers/errors';
import { tryJson } from '../providers/http';
import { postWebhook, type WebhookOptions, type WebhookSender } from './webhook';

/** Discord rejects content over 2000 characters. */
const MAX_CONTENT = 2_000;

const rateLimitBody = z.object({ message: z.string().optional(), retry_after: z.number().nonnegative() });

export function createDiscordWebhook(opts: WebhookOptions): WebhookSender {
  return {
    async send(text) {
      const content = text.length > MAX_CONTENT ? `${text.slice(0, MAX_CONTENT - 1)}…` : text;
      // parse: [] so an @everyone in a job title never pings anybody.
      await postWebhook('discord', opts, { content, allowed_mentions: { parse: [] } }, (res): ProviderError | undefined => {
        if (res.status !== 429 || res.headers.get('retry-after')) return undefined;
        const body = rateLimitBody.safeParse(tryJson(res.text));
        if (!body.success) return undefined;
        return new ProviderError('discord', 'rate_limited', `rate limited: ${body.data.message ?? 'retry later'}`, {
          status: 429,
          retryAfterMs: Math.ceil(body.data.retry_after * 1000),
        });
      });
    },
  };
}
