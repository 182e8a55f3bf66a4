/** Names nobody could resolve, and the aliases editors teach (`reelflow names unknown | alias`). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listUnresolvedMentions, teachAlias } from '../../recommendations/name-directory';
import { parseInput } from '../../validation';
import { ok, operator, read, type RouteContext } from '../context';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }).strict();
const aliasBody = z
  .object({
    mention: z.string().trim().min(1, 'must not be empty').max(120),
    player: z.string().trim().min(1, 'must be a roster id or a player name').max(120),
  })
  .strict();

export function registerNameRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/names/unknown', read, async (req) => {
    const { limit } = parseInput(listQuery, req.query, 'query');
    return ok(await listUnresolvedMentions(opts.database.db, limit));
  });

  app.post('/api/names/aliases', operator('names.alias'), async (req, reply) => {
    const body = parseInput(aliasBody, req.body, 'body');
    const taught = await teachAlias(opts.database.db, { mention: body.mention, player: body.player, by: req.principal!.name });
    req.call = { target: taught.playerId, detail: { mention: taught.mention, videosUpdated: taught.videosUpdated } };
    return reply.status(201).send(ok(taught));
  });
}
