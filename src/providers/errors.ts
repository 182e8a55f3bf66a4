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
  | 'malformed';

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: { status?: number; code?: string | number; retryAfterMs?: number } = {},
  ) {
    super(`${provider}: ${message}`);
  }

  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'transient' || this.kind === 'malformed';
  }
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
