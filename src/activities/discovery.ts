/**
 * Competitor discovery activities.
 *
 * - youtube_data / instagram_graph queues: checkCompetitorChannel and
 *   readCompetitorViews, each an automation_queue job run through
 *   runProviderJob (a slot of the platform's cap, its start spacing, retries
 *   with backoff for a feed's 404/500, Retry-After for a quota).
 * - base queue: the database side (src/services/competitor-discovery.ts) and
 *   starting the found videos' workflows through the worker's own client.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { DiscoveredVideo } from '../providers/discovery';
import { ProviderError } from '../providers/errors';
import { createDiscoveryClients, type DiscoveryClients } from '../providers/discovery-clients';
import {
  listChannelsToCheck,
  recordChannelCheck,
  recordViews,
  type ChannelCheckResult,
  type ChannelToCheck,
  type RecordViewsInput,
  type RecordViewsResult,
} from '../services/competitor-discovery';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import { runProviderJob } from './provider-job';
import { enqueueJob } from '../db/queries';

export interface DiscoveryActivityOptions {
  /** Default: built from deps.env (createDiscoveryClients). */
  clients?: DiscoveryClients;
  /** Default: the worker's own client (Context.client). */
  client?: () => Client;
  /** Default: the base queue the activity runs on. */
  taskQueue?: () => string;
}

/** Activities for the youtube_data and instagram_graph provider workers. */
export function createDiscoveryProviderActivities(deps: ActivityDeps, options: DiscoveryActivityOptions = {}) {
  const clients = options.clients ?? createDiscoveryClients(deps.env);
  return {
    async checkCompetitorChannel(input: { jobId: string; channel: ChannelToCheck }): Promise<DiscoveredVideo[]> {
      const { channel } = input;
      const client = channel.platform === 'instagram' ? clients.instagram : clients.youtube;
      const provider = channel.platform === 'instagram' ? 'instagram_graph' : 'youtube_data';
      return runProviderJob(deps, input.jobId, provider, async (ctx) => ({
        value: await ctx.call(() =>
          client.latest({ externalId: channel.externalId, displayName: channel.displayName }).catch(giveUpOnLongWaits),
        ),
      }));
    },

    /** Views of one YouTube video now; null when the platform gives none (no longer in the feed's newest 15, say). */
    async readCompetitorViews(input: {
      jobId: string;
      videoExternalId: string;
      channelExternalId: string | null;
    }): Promise<{ at: string; views: number | null }> {
      return runProviderJob(deps, input.jobId, 'youtube_data', async (ctx) => {
        if (!input.channelExternalId && !clients.youtube.usesDataApi) {
          // A one-off URL has no channel feed to read, and without a key there is no other source.
          return { value: { at: new Date().toISOString(), views: null } };
        }
        const channel = { externalId: input.channelExternalId ?? '', displayName: '' };
        const views = await ctx.call(() => clients.youtube.views(channel, [input.videoExternalId]).catch(giveUpOnLongWaits));
        return { value: { at: new Date().toISOString(), views: views.get(input.videoExternalId) ?? null } };
      });
    },
  };
}

/**
 * A throttle that lifts within a minute is retried (Retry-After); one that lasts longer (the Data API's
 * daily quota, until midnight Pacific) ends this check with the reason: the run records it on the channel
 * and moves on, and the next run (15 min) asks again, instead of one check outliving its run (a parked
 * quota would hold the run, and the Schedule skips runs while one is open).
 */
const LONGEST_RETRY_WAIT_MS = 60_000;

function giveUpOnLongWaits(err: unknown): never {
  const long = err instanceof ProviderError && (err.details.retryAfterMs ?? 0) > LONGEST_RETRY_WAIT_MS;
  if (long && (err.kind === 'rate_limited' || err.kind === 'quota_exhausted')) {
    const minutes = Math.ceil(err.details.retryAfterMs! / 60_000);
    throw new ProviderError(err.provider, 'permanent', `${err.message.replace(/^[a-z_]+: /, '')} (lifts in about ${minutes} min)`, {
      ...err.details,
    });
  }
  throw err;
}

/** Activities for the base worker. */
export function createDiscoveryBaseActivities(deps: ActivityDeps, options: DiscoveryActivityOptions = {}) {
  const { pool } = deps.database;
  const client = options.client ?? (() => Context.current().client);
  return {
    listCompetitorChannels(input: { channelIds: string[] | null }): Promise<ChannelToCheck[]> {
      return classified(() => listChannelsToCheck(pool, input.channelIds ?? undefined));
    },

    /** One discovery job per step of a run (the run id is in the step), as competitor.ts does for its OpenAI jobs. */
    enqueueDiscoveryJob(input: {
      workflowId: string;
      runId: string;
      step: string;
      provider: 'youtube_data' | 'instagram_graph';
    }): Promise<string> {
      return classified(async () => {
        const jobType = input.provider === 'youtube_data' ? 'youtube_discovery' : 'instagram_discovery';
        const job = await enqueueJob(pool, deps.limits, {
          workflowId: input.workflowId,
          step: `${input.step}:${input.runId}`,
          jobType,
          priority: 'P2',
          runId: input.runId,
        });
        return job.id;
      });
    },

    recordCompetitorCheck(input: {
      channel: ChannelToCheck;
      videos: DiscoveredVideo[] | null;
      error: string | null;
    }): Promise<ChannelCheckResult> {
      return classified(async () => {
        const result = await recordChannelCheck(
          pool,
          {
            client: client(),
            // The base queue this activity runs on is the one the found videos' workflows belong on.
            taskQueue: options.taskQueue?.() ?? Context.current().info.taskQueue,
            viewReadsSeconds: deps.env.COMPETITOR_VIEW_READS,
          },
          { ...input, maxAgeHours: deps.env.COMPETITOR_MAX_VIDEO_AGE_HOURS },
        );
        deps.log.info(
          { channel: input.channel.displayName, found: result.found.length, known: result.known, error: result.error },
          'competitor channel checked',
        );
        return result;
      });
    },

    recordCompetitorViews(input: RecordViewsInput): Promise<RecordViewsResult> {
      return classified(() => recordViews(pool, input));
    },
  };
}
