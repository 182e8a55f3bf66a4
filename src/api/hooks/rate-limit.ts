/**
 * Throttles, with @fastify/rate-limit's in-memory store (per API process):
 * failed authentications per source IP (token guessing), the KIE hook per
 * source IP (its secret is the only thing guarding it), and the audit rows of
 * failed authentications (one per IP per window, so a flood cannot fill the table).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiRateLimits } from '../context';
import { ApiError } from '../../shared/errors';

const DEFAULT_RATE_LIMITS: Required<ApiRateLimits> = { authFailures: 20, hookCalls: 600, windowMs: 60_000 };

export interface AuthThrottle {
  /** True when this IP has used up its failed authentications for the window: answer 429 without looking at the token. */
  blocked(req: FastifyRequest): Promise<boolean>;
  /** Counts one failed authentication; true when it is the first of its IP in the window (the one to audit). */
  failed(req: FastifyRequest): Promise<{ audit: boolean }>;
  /** Route config of the KIE hook. */
  hookConfig: { max: number; timeWindow: number };
  retryAfterSeconds: number;
}

export async function registerRateLimits(app: FastifyInstance, limits: ApiRateLimits = {}): Promise<AuthThrottle> {
  const { authFailures, hookCalls, windowMs } = { ...DEFAULT_RATE_LIMITS, ...limits };
  await app.register(rateLimit, {
    // Only the routes that ask (the KIE hook); a dashboard polling every 1.5 s must never be throttled.
    global: false,
    errorResponseBuilder: (_req, ctx) => new ApiError(ctx.statusCode, `too many requests; retry in ${ctx.after}`),
  });
  const failures = app.createRateLimit({ max: authFailures, timeWindow: windowMs });
  const audited = app.createRateLimit({ max: 1, timeWindow: windowMs });
  return {
    async blocked(req) {
      const state = await failures(req, { increment: false });
      return !state.isAllowed && state.remaining === 0;
    },
    async failed(req) {
      await failures(req);
      const first = await audited(req);
      return { audit: !first.isAllowed && !first.isExceeded };
    },
    hookConfig: { max: hookCalls, timeWindow: windowMs },
    retryAfterSeconds: Math.ceil(windowMs / 1000),
  };
}
