/**
 * One error shape for every provider. Providers know nothing of Temporal:
 * src/activities/failures.ts turns these into retryable / non-retryable failures.
 */
export type ProviderErrorKind =
  /** 429 or a provider throttle code: back off (Retry-After when given) and try again. */
  | 'rate_limited'
  /** 5xx, timeouts, dropped connections: safe to retry the same request. */
  | 'transient'
  /** Validation, auth, policy, unknown ids: retrying cannot help. Keeps the provider's message. */
  | 'permanent'
  /** The provider answered with something that does not match its documented shape. */
  | 'malformed'
  /**
   * A daily / moving-window quota or the credit balance is spent: every call before the reset is refused
   * the same way, so retrying cannot help. The gate parks the provider (details.account) until details.resetAt.
   */
  | 'quota_exhausted';

export interface ProviderErrorDetails {
  status?: number;
  code?: string | number;
  retryAfterMs?: number;
  /** quota_exhausted: when the provider's window resets (ISO), when known or computable; absent until a top-up (credits). */
  resetAt?: string;
  /** quota_exhausted: whose quota it is (IG user id, TikTok creator, YouTube channel/project); 'default' when unknown. */
  account?: string;
  /**
   * Nothing reached the provider: the failure came first (our video host, a URL we sign). The quota units the attempt
   * was granted are given back (runProviderJob), or a retry would take them again for a call that was never made.
   */
  unsent?: boolean;
  /**
   * The failing request could not make anything at the provider (YouTube's upload session, opened before any byte is
   * sent): whatever its answer, nothing is there to resume or to post twice, and the submit may be made again.
   */
  madeNothing?: boolean;
}

/** `err`, marked as a failure of a request that cannot make anything (ProviderErrorDetails.madeNothing). */
export function madeNothing(err: unknown): unknown {
  if (err instanceof ProviderError) err.details.madeNothing = true;
  return err;
}

/** `err`, marked as a failure before anything reached its provider (ProviderErrorDetails.unsent). */
export function unsent(err: unknown): unknown {
  if (err instanceof ProviderError) err.details.unsent = true;
  return err;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: ProviderErrorDetails = {},
  ) {
    super(`${provider}: ${message}`);
  }

  /** quota_exhausted is not: the quota's owner must wait for its reset (or a top-up). */
  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'transient' || this.kind === 'malformed';
  }
}

/** The account a quota belongs to when the client cannot name it. */
export const DEFAULT_ACCOUNT = 'default';

/**
 * A quota_exhausted error. With a reset time, details carry it as resetAt and as retryAfterMs (how far off it is),
 * so code that only reads retryAfterMs still sees how long the wait is.
 */
export function quotaExhausted(
  provider: string,
  message: string,
  details: { account?: string; resetAt?: Date; status?: number; code?: string | number; now?: number },
): ProviderError {
  const { account, resetAt, now = Date.now(), ...rest } = details;
  return new ProviderError(provider, 'quota_exhausted', message, {
    ...rest,
    account: account ?? DEFAULT_ACCOUNT,
    ...(resetAt ? { resetAt: resetAt.toISOString(), retryAfterMs: Math.max(0, resetAt.getTime() - now) } : {}),
  });
}

/**
 * details.code of a 'transient' error that only means "the provider is still
 * processing": publish() called before the upload is ready. Activities may
 * treat it as a benign "poll again" rather than a failure.
 */
export const NOT_READY = 'not_ready';

export function notReady(provider: string, message: string): ProviderError {
  return new ProviderError(provider, 'transient', message, { code: NOT_READY });
}

/**
 * details.code of a 'permanent' error meaning the post is gone (deleted by us or by the platform, or no longer
 * visible to our token): a metrics series ends with it instead of reading again.
 */
export const POST_GONE = 'post_gone';

export function postGone(provider: string, message: string, details: ProviderErrorDetails = {}): ProviderError {
  return new ProviderError(provider, 'permanent', message, { ...details, code: POST_GONE });
}

/** True for the error postGone() makes. */
export function isPostGone(err: unknown): boolean {
  return err instanceof ProviderError && err.details.code === POST_GONE;
}
