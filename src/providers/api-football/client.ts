/**
 * API-Football v3 (api-sports.io): La Liga players (every page), injuries and
 * next fixtures, read with the `x-apisports-key` header and nothing else (a
 * third-party guide says extra headers get a call refused; unconfirmed, so we
 * send none). Plain HTTP, no Temporal: the activity runs each call as a job.
 *
 * The API answers most errors with HTTP 200 and an `errors` object, so the
 * body decides, not the status:
 *   errors.token      bad or missing key           -> permanent
 *   errors.requests   the day's quota is spent      -> quota_exhausted until the daily reset (resetAt)
 *   errors.rateLimit  (HTTP 429) per-minute cap     -> rate_limited for about a minute
 *   errors.<param>    a bad parameter               -> permanent, naming the parameter
 *   499 / 500 `{message}`                           -> transient
 * Every answer's rate-limit headers are returned with its result, and the last daily figures seen (errors
 * included) are kept for lastQuota().
 */
import type { z } from 'zod';
import { ProviderError, quotaExhausted } from '../errors';
import { excerpt, HttpClient, kindForStatus, parseRetryAfter, tryJson, validate, type HttpResponse, type QueryValue } from '../http';
import {
  errorEnvelopeSchema,
  fixturesEnvelopeSchema,
  injuriesEnvelopeSchema,
  messageBodySchema,
  playersEnvelopeSchema,
  type FixtureItem,
  type InjuryItem,
  type PlayerItem,
} from './schemas';

const PROVIDER = 'api_football';

/** details.code of the two throttles, so callers can tell "wait a minute" from "wait for tomorrow". */
export const API_FOOTBALL_CODES = {
  dailyQuota: 'daily_quota',
  perMinute: 'per_minute',
  badKey: 'token',
  badRequest: 'bad_request',
} as const;

export interface ApiFootballClientOptions {
  /** Default https://v3.football.api-sports.io (API_FOOTBALL_BASE_URL). */
  baseUrl: string;
  apiKey: string;
  /** Per request. Default 30 000 ms. */
  timeoutMs?: number;
  /** Send `season` with `next` on /fixtures (unconfirmed that the API accepts both). Default false. */
  fixturesWithSeason?: boolean;
  /** Wait after a per-minute 429 without Retry-After. Default 60 000 ms. */
  rateLimitWaitMs?: number;
  /** UTC "HH:MM" the daily quota resets (unconfirmed). Default "00:00". */
  quotaResetUtc?: string;
  /** Clock for the quota reset (tests). */
  now?: () => number;
}

/** What the rate-limit headers said; null where a header was missing. */
export interface RateLimitReading {
  /** x-ratelimit-requests-limit: the day's allocation. */
  dailyLimit: number | null;
  /** x-ratelimit-requests-remaining: left today. */
  dailyRemaining: number | null;
  /** X-RateLimit-Limit: per minute. */
  minuteLimit: number | null;
  /** X-RateLimit-Remaining: left this minute. */
  minuteRemaining: number | null;
}

/** The day's figures from the last answer that carried both daily headers. */
export interface ApiFootballQuota {
  /** x-ratelimit-requests-remaining: requests left today. */
  remaining: number;
  /** x-ratelimit-requests-limit: the day's allocation. */
  limit: number;
  /** When that answer arrived. */
  at: Date;
}

export interface ApiFootballResult<T> {
  items: T[];
  paging: { current: number; total: number };
  rateLimit: RateLimitReading;
}

export class ApiFootballClient {
  readonly provider = PROVIDER;
  private readonly http: HttpClient;
  private readonly rateLimitWaitMs: number;
  private readonly now: () => number;
  private quota: ApiFootballQuota | null = null;

  constructor(private readonly options: ApiFootballClientOptions) {
    this.http = new HttpClient({
      provider: PROVIDER,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      headers: { 'x-apisports-key': options.apiKey },
    });
    this.rateLimitWaitMs = options.rateLimitWaitMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** One page of a league's players (20 a page; loop 1..paging.total). */
  playersPage(input: { league: number; season: number; page: number }): Promise<ApiFootballResult<PlayerItem>> {
    return this.get('/players', { league: input.league, season: input.season, page: input.page }, playersEnvelopeSchema);
  }

  /** The league's injuries of the season ("Missing Fixture" or "Questionable", per fixture). */
  injuries(input: { league: number; season: number }): Promise<ApiFootballResult<InjuryItem>> {
    return this.get('/injuries', { league: input.league, season: input.season }, injuriesEnvelopeSchema);
  }

  /** The league's next `next` fixtures; `season` is sent only when fixturesWithSeason says so. */
  nextFixtures(input: { league: number; season: number; next: number }): Promise<ApiFootballResult<FixtureItem>> {
    const query = { league: input.league, next: input.next, ...(this.options.fixturesWithSeason ? { season: input.season } : {}) };
    return this.get('/fixtures', query, fixturesEnvelopeSchema);
  }

  /** The daily figures of the last answer that carried them; null before the first. */
  lastQuota(): ApiFootballQuota | null {
    return this.quota ? { ...this.quota, at: new Date(this.quota.at) } : null;
  }

  private async get<T>(
    path: string,
    query: Record<string, QueryValue>,
    schema: z.ZodType<{ errors: Record<string, string>; paging: { current: number; total: number }; response: T[] }, z.ZodTypeDef, unknown>,
  ): Promise<ApiFootballResult<T>> {
    const res = await this.http.send({ method: 'GET', path, query });
    const rateLimit = readRateLimit(res.headers);
    if (rateLimit.dailyRemaining !== null && rateLimit.dailyLimit !== null) {
      this.quota = { remaining: rateLimit.dailyRemaining, limit: rateLimit.dailyLimit, at: new Date(this.now()) };
    }
    if (res.status === 204) return { items: [], paging: { current: 1, total: 1 }, rateLimit };
    const body = tryJson(res.text);
    if (res.status < 200 || res.status >= 300) throw this.statusError(path, res, body);
    if (body === undefined) {
      throw new ProviderError(PROVIDER, 'malformed', `${path}: response is not JSON: ${excerpt(res.text) || 'empty body'}`, {
        status: res.status,
      });
    }
    const errors = validate(PROVIDER, errorEnvelopeSchema, body, res.status).errors;
    if (Object.keys(errors).length > 0) throw this.envelopeError(path, errors, res);
    const parsed = validate(PROVIDER, schema, body, res.status);
    return { items: parsed.response, paging: parsed.paging, rateLimit };
  }

  /** An `errors` object: the key says what went wrong. */
  envelopeError(path: string, errors: Record<string, string>, res: Pick<HttpResponse, 'status' | 'headers'>): ProviderError {
    const status = res.status;
    if (errors.token !== undefined) {
      return new ProviderError(PROVIDER, 'permanent', `${path}: the API key was refused (errors.token: ${errors.token})`, {
        status,
        code: API_FOOTBALL_CODES.badKey,
      });
    }
    if (errors.requests !== undefined) {
      const now = this.now();
      const resetAt = new Date(now + msUntilReset(now, this.options.quotaResetUtc ?? '00:00'));
      return quotaExhausted(
        PROVIDER,
        `${path}: the daily request quota is spent (errors.requests: ${errors.requests}); it resets around ${resetAt.toISOString()}`,
        { status, code: API_FOOTBALL_CODES.dailyQuota, resetAt, now },
      );
    }
    if (errors.rateLimit !== undefined) return this.perMinute(path, res, errors.rateLimit);
    const named = Object.entries(errors)
      .map(([k, v]) => `errors.${k}: ${v}`)
      .join('; ');
    return new ProviderError(PROVIDER, 'permanent', `${path}: request refused (${excerpt(named)})`, {
      status,
      code: API_FOOTBALL_CODES.badRequest,
    });
  }

  private perMinute(path: string, res: Pick<HttpResponse, 'status' | 'headers'>, text: string): ProviderError {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? this.rateLimitWaitMs;
    return new ProviderError(PROVIDER, 'rate_limited', `${path}: per-minute request limit reached (${excerpt(text)})`, {
      status: res.status,
      code: API_FOOTBALL_CODES.perMinute,
      retryAfterMs,
    });
  }

  private statusError(path: string, res: HttpResponse, body: unknown): ProviderError {
    const envelope = errorEnvelopeSchema.safeParse(body);
    if (envelope.success && Object.keys(envelope.data.errors).length > 0) {
      // A 429 carries errors.rateLimit; any other error key keeps its own meaning.
      if (res.status === 429 && envelope.data.errors.rateLimit === undefined) return this.perMinute(path, res, JSON.stringify(body));
      return this.envelopeError(path, envelope.data.errors, res);
    }
    if (res.status === 429) return this.perMinute(path, res, excerpt(res.text));
    const message = messageBodySchema.safeParse(body);
    const text = message.success ? message.data.message : excerpt(res.text) || 'empty body';
    // 499 is the API's own time-out: as retryable as a 5xx.
    const kind = res.status === 499 ? 'transient' : kindForStatus(res.status);
    return new ProviderError(PROVIDER, kind, `${path}: HTTP ${res.status}: ${text}`, { status: res.status });
  }
}

function headerNumber(headers: Headers, name: string): number | null {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

export function readRateLimit(headers: Headers): RateLimitReading {
  return {
    dailyLimit: headerNumber(headers, 'x-ratelimit-requests-limit'),
    dailyRemaining: headerNumber(headers, 'x-ratelimit-requests-remaining'),
    minuteLimit: headerNumber(headers, 'x-ratelimit-limit'),
    minuteRemaining: headerNumber(headers, 'x-ratelimit-remaining'),
  };
}

/** Milliseconds from `now` to the next daily reset at `hhmm` UTC (at least one minute). */
export function msUntilReset(now: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const d = new Date(now);
  let reset = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m);
  if (reset <= now) reset += 86_400_000;
  return Math.max(60_000, reset - now);
}

/** The season under way as its start year: La Liga starts in August, so July onwards is the new season. */
export function currentSeason(at: Date): number {
  return at.getUTCMonth() >= 6 ? at.getUTCFullYear() : at.getUTCFullYear() - 1;
}
