/**
 * Watched competitor channels, one path for the CLI (`reelflow competitor …`)
 * and the API (/api/competitors): add (validated against the platform: a
 * YouTube handle must resolve to a channel id, an unknown one stores nothing),
 * list, remove, check now, and add-video for a one-off URL (TikTok, a video
 * of an unwatched channel). SQL beside the code.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Database } from '../db/client';
import { ProviderError } from '../providers/errors';
import type { DiscoveryClients } from '../providers/discovery-clients';
import { competitorVideoWorkflowId, startCompetitorVideo } from '../recommendations/ingest';
import { canonicalVideoUrl, nonVideoReason, videoPlatform } from '../recommendations/save-video';
import { BadInputError, NotFoundError } from '../shared/errors';
import { CHANNEL_PLATFORMS, type CompetitorPlatform } from '../shared/statuses';
import { COMPETITOR_DISCOVERY_WORKFLOW, competitorCheckWorkflowId } from '../shared/workflow-ids';
import { COMPETITOR_DISCOVERY_METADATA } from '../shared/workflow-metadata';
import { parseInput } from '../validation';
import type { CompetitorDiscoveryResult } from '../workflows/competitor-discovery';
import type { ChannelCheckResult } from './competitor-discovery';

export interface CompetitorChannelServiceDeps {
  database: Database;
  discovery: DiscoveryClients;
  /** Temporal, for check and add-video; list/add/remove work without it. */
  client?: Client;
  /** The base task queue (REELFLOW_TASK_QUEUE). */
  taskQueue: string;
}

const enumMessage = (allowed: readonly string[]) => ({ errorMap: () => ({ message: `must be one of ${allowed.join(', ')}` }) });

export const addChannelSchema = z
  .object({
    platform: z.enum(CHANNEL_PLATFORMS, enumMessage(CHANNEL_PLATFORMS)),
    /** A YouTube handle (@name), channel id (UC…) or URL; an Instagram username; a label for manual. */
    channel: z.string().trim().min(1, 'must not be empty').max(200),
    name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  })
  .strict();

export const addVideoSchema = z
  .object({
    url: z
      .string()
      .trim()
      .url('must be a URL')
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    /** Who published it (shown with the analysis). Default: the host. */
    name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  })
  .strict();

export interface ChannelView {
  id: string;
  platform: string;
  externalId: string;
  handle: string | null;
  displayName: string;
  active: boolean;
  lastCheckedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  newestVideoId: string | null;
  newestVideoAt: Date | null;
  videosFound: number;
  createdAt: Date;
}

const COLUMNS = `id, platform, external_id AS "externalId", handle, display_name AS "displayName", active,
  last_checked_at AS "lastCheckedAt", last_error AS "lastError", last_error_at AS "lastErrorAt",
  newest_video_id AS "newestVideoId", newest_video_at AS "newestVideoAt", videos_found AS "videosFound", created_at AS "createdAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every watched channel, oldest first: needs only the database (the API's read route uses it directly). */
export async function listCompetitorChannels(database: Database): Promise<ChannelView[]> {
  const { rows } = await database.pool.query<ChannelView>(`SELECT ${COLUMNS} FROM competitor_channels ORDER BY created_at`);
  return rows;
}

export function createCompetitorChannelService(deps: CompetitorChannelServiceDeps) {
  const { pool } = deps.database;
  const temporal = (): Client => {
    if (!deps.client) throw new Error('this command needs Temporal (TEMPORAL_ADDRESS)');
    return deps.client;
  };

  async function find(ref: string): Promise<ChannelView> {
    const key = ref.trim();
    if (!key) throw new BadInputError('channel must not be empty');
    const { rows } = await pool.query<ChannelView>(
      `SELECT ${COLUMNS} FROM competitor_channels
        WHERE ($1::uuid IS NOT NULL AND id = $1::uuid) OR external_id = $2 OR lower(handle) = lower($2) OR lower(handle) = lower('@' || $2)
        ORDER BY created_at`,
      [UUID.test(key) ? key : null, key],
    );
    if (rows.length === 0) throw new NotFoundError(`no competitor channel "${key}" (\`reelflow competitor list\` shows them)`);
    if (rows.length > 1)
      throw new BadInputError(`"${key}" names ${rows.length} channels; use its id (${rows.map((r) => r.id).join(', ')})`);
    return rows[0]!;
  }

  return {
    find,

    list: () => listCompetitorChannels(deps.database),

    /**
     * Resolves the channel on its platform first: nothing is stored for a channel the
     * platform does not know (BadInputError naming it). A channel added twice is
     * returned as it is (created false).
     */
    async add(raw: unknown): Promise<{ channel: ChannelView; created: boolean }> {
      const input = parseInput(addChannelSchema, raw, 'competitor add');
      let externalId = input.channel;
      let displayName = input.name ?? input.channel;
      const handle = input.platform === 'manual' ? null : input.channel;
      if (input.platform !== 'manual') {
        try {
          const resolved = await deps.discovery[input.platform].resolve(input.channel);
          externalId = resolved.externalId;
          displayName = input.name ?? resolved.displayName;
        } catch (err) {
          // The platform said no (unknown handle, bad id, missing key): the operator's input, named.
          if (err instanceof ProviderError && err.kind === 'permanent') {
            throw new BadInputError(`competitor add: ${input.platform} ${input.channel}: ${err.message.replace(/^[a-z_]+: /, '')}`);
          }
          throw err;
        }
      }
      const { rows } = await pool.query<ChannelView & { created: boolean }>(
        `INSERT INTO competitor_channels (platform, external_id, handle, display_name)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (platform, external_id) DO UPDATE SET active = true, updated_at = now()
         RETURNING ${COLUMNS}, (xmax = 0) AS created`,
        [input.platform, externalId, handle, displayName],
      );
      const { created, ...channel } = rows[0]!;
      return { channel, created };
    },

    /** Its videos stay in competitive_videos (their channel_id becomes null). */
    async remove(ref: string): Promise<ChannelView> {
      const channel = await find(ref);
      await pool.query('DELETE FROM competitor_channels WHERE id = $1', [channel.id]);
      return channel;
    },

    /** Checks one channel now, through the same workflow and gate as the Schedule; waits for it. */
    async check(ref: string): Promise<ChannelCheckResult & { workflowId: string }> {
      const channel = await find(ref);
      if (channel.platform === 'manual') throw new BadInputError(`${channel.displayName} is a manual channel: there is no feed to check`);
      const workflowId = competitorCheckWorkflowId(channel.id, Date.now());
      const result: CompetitorDiscoveryResult = await temporal().workflow.execute(COMPETITOR_DISCOVERY_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ channelIds: [channel.id] }],
        ...COMPETITOR_DISCOVERY_METADATA,
      });
      const checked = result.channels[0];
      if (!checked) throw new NotFoundError(`channel ${channel.id} was removed during the check`);
      return { ...checked, workflowId };
    },

    /**
     * One video by URL, any platform (inferred from the host; `web` otherwise). A URL already
     * analysed is not started again; one being analysed is joined (same workflow id).
     */
    async addVideo(raw: unknown): Promise<{ url: string; platform: CompetitorPlatform; workflowId: string; started: boolean }> {
      const input = parseInput(addVideoSchema, raw, 'competitor add-video');
      const url = canonicalVideoUrl(input.url);
      const { platform, externalId } = videoPlatform(input.url);
      const notAVideo = nonVideoReason(input.url);
      if (notAVideo) throw new BadInputError(`url: ${input.url} ${notAVideo}`);
      const workflowId = competitorVideoWorkflowId(url);
      const { rows } = await pool.query('SELECT 1 FROM competitive_videos WHERE url = $1', [url]);
      if (rows.length) return { url, platform, workflowId, started: false };
      await startCompetitorVideo(temporal(), deps.taskQueue, {
        url: input.url,
        platform,
        externalId,
        channel: input.name ?? new URL(input.url).hostname.replace(/^www\./, ''),
        channelId: null,
        // Unknown until the audio step reads the page; the analysis names the video by its content. A title holds 500.
        title: input.url.slice(0, 500),
        views: 0,
        publishedAt: null,
      });
      return { url, platform, workflowId, started: true };
    },
  };
}

export type CompetitorChannelService = ReturnType<typeof createCompetitorChannelService>;
