/**
 * Who is calling: every route that names a role needs a valid bearer token
 * (none or a bad one -> 401, too weak a role -> 403). Failed authentications
 * are throttled per source IP and audited (one row per IP per window).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../../db/client';
import { recordAudit } from '../audit';
import { bearerToken, checkToken, roleAllows } from '../auth';
import { ApiError } from '../../shared/errors';
import { redactUrl } from '../redact';
import type { AuthThrottle } from './rate-limit';

export function registerAuth(app: FastifyInstance, db: Db, throttle: AuthThrottle): void {
  app.addHook('onRequest', async (req, reply) => {
    req.call = {};
    if (req.url.startsWith('/api/')) void reply.header('Cache-Control', 'no-store');
    const need = req.routeOptions.config.role;
    if (!need) return;
    // Checked before the token so a guesser learns nothing more once throttled, not even a right guess.
    if (await throttle.blocked(req)) {
      void reply.header('Retry-After', String(throttle.retryAfterSeconds));
      throw new ApiError(429, 'too many failed authentications from this address; try again later');
    }
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      void reply.header('WWW-Authenticate', 'Bearer realm="reelflow"');
      await refuse(req, 'no token');
      throw new ApiError(401, 'authentication required: send "Authorization: Bearer <token>" (create one with `reelflow token create`)');
    }
    const found = await checkToken(db, token);
    if (found.status !== 'ok') {
      void reply.header('WWW-Authenticate', 'Bearer realm="reelflow", error="invalid_token"');
      await refuse(
        req,
        found.status === 'expired' ? 'token expired' : 'invalid or revoked token',
        found.status === 'expired' ? found.principal : undefined,
      );
      throw new ApiError(401, found.status === 'expired' ? 'token expired' : 'invalid or revoked token');
    }
    const principal = found.principal;
    req.principal = principal;
    if (!roleAllows(principal.role, need)) {
      throw new ApiError(403, `this call needs the ${need} role; token "${principal.name}" has the ${principal.role} role`);
    }
  });

  async function refuse(req: FastifyRequest, reason: string, principal?: { tokenId: string; name: string }): Promise<void> {
    const { audit } = await throttle.failed(req);
    if (!audit) return;
    // Awaited: a 401 that could not be audited becomes a 500 like any other unaudited call.
    await recordAudit(db, {
      actor: principal ? principal.name : 'unauthenticated',
      tokenId: principal?.tokenId ?? null,
      action: 'auth.failed',
      target: null,
      detail: {
        reason,
        ip: req.ip,
        method: req.method,
        url: redactUrl(req.url),
        note: 'one row per address per rate-limit window; later failures in it are not recorded',
      },
    });
  }
}
