/**
 * What Slack and Discord incoming webhooks share: one JSON POST to a URL that
 * is itself the secret. Failures become ProviderError through the same
 * helpers as every provider, with the URL kept out of every message.
 */
import { ProviderError } from '../providers/errors';
import { excerpt, statusError, transportError, type HttpResponse } from '../providers/http';

/** Posts one message; resolves on success, rejects with a ProviderError. */
export interface WebhookSender {
  send(text: string): Promise<void>;
}

export interface WebhookOptions {
  url: string;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

type Response = Pick<HttpResponse, 'status' | 'headers' | 'text'>;

export async function postWebhook(
  provider: string,
  opts: WebhookOptions,
  body: unknown,
  /** Reads a provider-specific error envelope; undefined falls back to the HTTP status. */
  describeError?: (res: Response) => ProviderError | undefined,
): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    const r = await fetch(opts.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: timeout,
      redirect: 'manual',
    });
    res = { status: r.status, headers: r.headers, text: await r.text() };
  } catch (err) {
    throw transportError(provider, err, { label: 'POST webhook', timeoutMs, timedOut: timeout.aborted });
  }
  if (res.status >= 200 && res.status < 300) return res;
  throw describeError?.(res) ?? statusError(provider, res, `webhook answered HTTP ${res.status}: ${excerpt(res.text) || 'empty body'}`);
}
