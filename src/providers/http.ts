/**
 * The one place where provider HTTP becomes ProviderError. Clients describe
 * their own error envelopes; everything else (timeouts, dropped sockets,
 * Retry-After, bodies that are not JSON or not the documented shape) is
 * classified here the same way for every provider.
 */
import type { ZodType, ZodTypeDef } from 'zod';
import { ProviderError, type ProviderErrorKind } from './errors';
import { HTTP_CONNECTION_ERROR_CODES } from '../shared/connection-errors';
import { sendOnWire } from './http-transport';

/** Per-request timeout when a client does not set one. */
const DEFAULT_TIMEOUT_MS = 30_000;

const EXCERPT_CHARS = 200;

/** Any zod schema producing T, whatever its input (transforms included). */
export type Schema<T> = ZodType<T, ZodTypeDef, unknown>;

export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Joined to the client's baseUrl; absolute URLs (session URIs, video URLs) are used as given. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Serialised as JSON with `Content-Type: application/json`. */
  json?: unknown;
  body?: Uint8Array | string;
  headers?: Record<string, string | undefined>;
  /** Overrides the client's timeout for this request (uploads and downloads need longer). */
  timeoutMs?: number;
  /** Caller cancellation (e.g. an activity being cancelled); reported as 'transient'. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  readonly text: string;
}

/** Where a provider client talks to: config picks the real API or a simulator. */
export interface ProviderEndpoint {
  /** The API root, e.g. https://api.kie.ai or http://127.0.0.1:4101 for a simulator. */
  baseUrl: string;
  /** Per request. Default 30 000 ms (OpenAI's client: 120 000 ms). */
  timeoutMs?: number;
}

export interface HttpClientOptions {
  /** Provider name carried by every ProviderError. */
  provider: string;
  baseUrl: string;
  /** Covers connect, response headers and the whole body. Default 30 000 ms. */
  timeoutMs?: number;
  /** Sent on every request (authentication). */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>` on every request. */
  bearerToken?: string;
  /**
   * Reads the provider's own error envelope from a non-2xx answer. Returning
   * undefined falls back to classification by HTTP status with a body excerpt.
   */
  describeError?: (res: HttpResponse) => ProviderError | undefined;
}

export interface ParseOptions {
  /** Rewrites the raw text before JSON.parse (e.g. quoting 64-bit ids that would lose precision). */
  prepare?: (text: string) => string;
}

export class HttpClient {
  readonly provider: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.provider = options.provider;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  url(path: string, query?: Record<string, QueryValue>): URL {
    const base = /^https?:\/\//i.test(path) ? path : `${this.options.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    const url = new URL(base);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Resolves with any HTTP status; rejects only with a ProviderError for transport failures. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.bearerToken) headers.Authorization = `Bearer ${this.options.bearerToken}`;
    for (const [key, value] of Object.entries(req.headers ?? {})) {
      if (value !== undefined) headers[key] = value;
    }
    let body: Uint8Array | string | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['Content-Type'] ??= 'application/json';
    }
    // The query string may carry credentials (Graph API access_token): never put it in messages.
    const label = `${req.method} ${safePath(req.path)}`;
    try {
      // No redirect is followed: YouTube answers "308 Resume Incomplete", which is not a redirect.
      const res = await sendOnWire({ method: req.method, url: this.url(req.path, req.query), headers, body, signal });
      const { bytes } = res;
      let text: string | undefined;
      return {
        status: res.status,
        headers: res.headers,
        bytes,
        get text() {
          text ??= new TextDecoder().decode(bytes);
          return text;
        },
      };
    } catch (err) {
      throw transportError(this.provider, err, { label, timeoutMs, timedOut: timeout.aborted });
    }
  }

  /** Sends, turns non-2xx answers into the provider's error, and validates a 2xx body with `schema`. */
  async json<T>(req: HttpRequest, schema: Schema<T>, parse?: ParseOptions): Promise<T> {
    const res = await this.send(req);
    if (res.status < 200 || res.status >= 300) throw this.error(res);
    return parseJson(this.provider, res, schema, parse);
  }

  error(res: HttpResponse): ProviderError {
    return this.options.describeError?.(res) ?? statusError(this.provider, res, `HTTP ${res.status}: ${excerpt(res.text) || 'empty body'}`);
  }
}

/** Milliseconds to wait from a Retry-After header given as delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The default reading of an HTTP status: 429 throttled, 408/5xx retry, other 4xx permanent. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'transient';
  return 'permanent';
}

/**
 * A ProviderError for an HTTP answer: kind from the status unless the provider
 * code says otherwise, with the status and any Retry-After carried in details.
 */
export function statusError(
  provider: string,
  res: Pick<HttpResponse, 'status' | 'headers'>,
  message: string,
  extra: { kind?: ProviderErrorKind; code?: string | number } = {},
): ProviderError {
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return new ProviderError(provider, extra.kind ?? kindForStatus(res.status), message, {
    status: res.status,
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** JSON.parse + zod, where anything unexpected is 'malformed' with a short excerpt, never a raw throw. */
export function parseJson<T>(
  provider: string,
  res: Pick<HttpResponse, 'status' | 'text'>,
  schema: Schema<T>,
  options: ParseOptions = {},
): T {
  let value: unknown;
  try {
    value = JSON.parse(options.prepare ? options.prepare(res.text) : res.text);
  } catch {
    throw new ProviderError(provider, 'malformed', `response is not JSON: ${excerpt(res.text) || 'empty body'}`, {
      status: res.status,
    });
  }
  return validate(provider, schema, value, res.status);
}

/** Checks an already-parsed value (SDK responses, envelope payloads) against its documented shape. */
export function validate<T>(provider: string, schema: Schema<T>, value: unknown, status?: number): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ProviderError(
    provider,
    'malformed',
    `unexpected response shape at ${where}: ${issue?.message ?? 'invalid'} (${excerpt(safeStringify(value))})`,
    status !== undefined ? { status } : {},
  );
}

/** Parses a body without throwing; undefined when it is not JSON. For reading error envelopes. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function transportError(
  provider: string,
  err: unknown,
  ctx: { label: string; timeoutMs: number; timedOut?: boolean },
): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { name?: string; code?: unknown; message?: string; cause?: { code?: string; message?: string } };
  if (ctx.timedOut || e.name === 'TimeoutError') {
    return new ProviderError(provider, 'transient', `${ctx.label} timed out after ${ctx.timeoutMs} ms`, { code: 'timeout' });
  }
  if (e.name === 'AbortError') {
    return new ProviderError(provider, 'transient', `${ctx.label} aborted by caller`, { code: 'aborted' });
  }
  // fetch (the OpenAI SDK's) wraps the socket's error as its cause; node:http (sendOnWire) throws it as is.
  const code = e.cause?.code ?? (typeof e.code === 'string' ? e.code : undefined);
  if (code === 'ERR_INVALID_URL') {
    return new ProviderError(provider, 'permanent', `${ctx.label}: invalid URL`, { code });
  }
  const reason = e.cause?.message ?? e.message ?? String(err);
  // undici's own socket/header/body errors (UND_ERR_*) are connection trouble too; an unknown
  // network failure is more likely a blip than a bug, and Temporal caps the attempts anyway.
  const transient = code === undefined || HTTP_CONNECTION_ERROR_CODES.has(code) || code.startsWith('UND_ERR');
  return new ProviderError(provider, transient ? 'transient' : 'permanent', `${ctx.label} failed: ${reason}`, code ? { code } : {});
}

function safePath(path: string): string {
  const noQuery = path.split('?')[0] ?? path;
  return noQuery.replace(/^https?:\/\/[^/]+/i, '');
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
