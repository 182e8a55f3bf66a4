/**
 * KIE.ai's callbacks. KIE cannot send our tokens, so the hook is authenticated
 * by a secret path segment (KIE_CALLBACK_SECRET; never logged, see ../redact.ts)
 * and throttled per source IP. A callback frees the task's slot (only with the
 * key of the submit that created it: a forged one needs the secret and that
 * nonce) and wakes the task's poller; record-info stays the authority on the
 * result.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { connectDatabase, type Database } from '../../db/client';
import { hearCallback, SUBMIT_KEY_PATTERN } from '../../gate/provider-events';
import { callbackSchema } from '../../providers/veo3/schemas';
import { parseInput } from '../../validation';
import { ok, type RouteContext } from '../context';
import { ApiError } from '../../shared/errors';

export function registerKieHookRoutes(app: FastifyInstance, { opts }: RouteContext, rateLimit: { max: number; timeWindow: number }): void {
  // The callbacks' own session, kept open: the callback is the first hop of every hand-over between two renders, and
  // on the API's shared pool each callback found a session that had served the dashboard instead, whose first call
  // compiles the functions hear_callback runs (14-26 ms here) and whose plans were not yet its own (docs/bench-history.md).
  // One session loses nothing: the callbacks of a provider wait for each other on its lock anyway.
  let session: Database | null = null;
  const callbackPool = () => {
    session ??= connectDatabase(opts.database.url, { max: 1, idleMs: 0 });
    return session.pool;
  };
  app.addHook('onClose', async () => {
    await session?.close();
  });
  // The optional last segment is the submit's key (newSubmitKey): see hearCallback.
  app.post('/hooks/kie/:secret/:key?', { config: { rateLimit } }, async (req) => {
    const { secret, key } = req.params as { secret: string; key?: string };
    const expected = opts.env.KIE_CALLBACK_SECRET;
    if (!expected || !sameSecret(expected, secret)) throw new ApiError(404, 'no route POST /hooks/kie');
    if (key !== undefined && !SUBMIT_KEY_PATTERN.test(key)) throw new ApiError(400, 'key: not a submit key (<job id>.<8 hex>)');
    const callback = parseInput(callbackSchema, req.body, 'callback');
    const { jobs, learned, freed } = await hearCallback(callbackPool(), 'veo3', callback.data.taskId, key ?? null, {
      code: callback.code,
      msg: callback.msg ?? null,
    });
    const slotFreed = freed !== null;
    req.call = { detail: { taskId: callback.data.taskId, code: callback.code, learned, slotFreed } };
    return ok({ taskId: callback.data.taskId, jobs, learned, slotFreed });
  });
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
