/** Watched competitor channels and one-off competitor videos (src/services/competitor-channels.ts). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ProviderError } from '../../providers/errors';
import { listCompetitorChannels, type CompetitorChannelService } from '../../services/competitor-channels';
import { ApiError } from '../../shared/errors';
import { parseInput } from '../../validation';
import { ok, operator, read, type RouteContext } from '../context';

const channelParams = z.object({ id: z.string().min(1) });

export function registerCompetitorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const service = (): CompetitorChannelService => {
    const competitors = ctx.opts.competitors;
    if (!competitors) throw new ApiError(503, 'competitor channels are not available on this server');
    return competitors;
  };
  // The platform could not be asked (down, throttled): not the caller's fault, and not ours either.
  const platformCall = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProviderError) throw new ApiError(502, `the platform did not answer: ${err.message}`);
      throw err;
    }
  };

  // A read needs only the database: served on every API server, with or without the write side.
  app.get('/api/competitors', read, async () => ok(await listCompetitorChannels(ctx.opts.database)));

  app.post('/api/competitors', operator('competitor.add'), async (req, reply) => {
    const { channel, created } = await platformCall(() => service().add(req.body));
    req.call = { target: channel.id, detail: { platform: channel.platform, externalId: channel.externalId, created } };
    return reply.status(created ? 201 : 200).send(ok({ ...channel, created }));
  });

  app.delete('/api/competitors/:id', operator('competitor.remove'), async (req) => {
    const { id } = parseInput(channelParams, req.params, 'path');
    const channel = await service().remove(id);
    req.call = { target: channel.id, detail: { platform: channel.platform, externalId: channel.externalId } };
    return ok({ removed: channel.id });
  });

  app.post('/api/competitors/:id/check', operator('competitor.check'), async (req) => {
    const { id } = parseInput(channelParams, req.params, 'path');
    const result = await service().check(id);
    req.call = { target: result.channelId, workflowId: result.workflowId, detail: { found: result.found.length, error: result.error } };
    return ok({ ...result, links: { temporal: ctx.workflowUrl(result.workflowId) } });
  });

  app.post('/api/competitor-videos', operator('competitor.add_video'), async (req, reply) => {
    const result = await service().addVideo(req.body);
    req.call = { target: result.url, workflowId: result.workflowId, detail: { platform: result.platform, started: result.started } };
    return reply.status(result.started ? 202 : 200).send(ok({ ...result, links: { temporal: ctx.workflowUrl(result.workflowId) } }));
  });
}
