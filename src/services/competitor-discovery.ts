/**
 * What a discovery check does with what a platform answered, and what a views
 * read does with a count: the database side of competitorDiscoveryWorkflow and
 * competitorViewsWorkflow (their base-queue activities call these). SQL beside it.
 *
 * Exactly once, by construction: a video already in competitive_videos is
 * skipped; any other starts its competitor-video workflow under an id derived
 * from the canonical URL with REJECT_DUPLICATE, so Temporal refuses a second
 * start whether the first is still running or long finished (a worker restart or
 * a repeated check cannot start it twice). Only a start Temporal accepted counts
 * as found. The channel's watermark (newest video seen) only narrows what is
 * looked at; it is not what prevents duplicates.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { DiscoveredVideo } from '../providers/discovery';
import { videoKey } from '../recommendations/ingest';
import { canonicalVideoUrl } from '../recommendations/save-video';
import { potentialFromVelocity, raisedPotential, viewVelocity, type ViewReading } from '../recommendations/view-velocity';
import {
  COMPETITOR_VIDEO_WORKFLOW,
  COMPETITOR_VIEWS_WORKFLOW,
  competitorVideoWorkflowId,
  competitorViewsWorkflowId,
} from '../shared/workflow-ids';
import { competitorVideoWorkflowMetadata, competitorViewsWorkflowMetadata } from '../shared/workflow-metadata';
import type { CompetitorVideoInput } from '../workflows/competitor-video';
import type { CompetitorViewsInput } from '../workflows/competitor-views';

/**
 * A feed may list an upload after a newer one (small channels' feeds lag up to ~2 h, providers-2.md §1.1):
 * entries this far behind the watermark are looked at again. Older ones were seen by an earlier check; not
 * looking at them saves a refused start per entry and check (Temporal's id check would refuse them anyway).
 */
const WATERMARK_MARGIN_MS = 3 * 3_600_000;

export interface ChannelToCheck {
  id: string;
  platform: 'youtube' | 'instagram' | 'manual';
  externalId: string;
  displayName: string;
}

/** What discovery starts the competitor-video workflow with. */
export type DiscoveredVideoInput = CompetitorVideoInput;

export interface FoundVideo {
  url: string;
  title: string;
  publishedAt: string | null;
  views: number | null;
}

export interface ChannelCheckResult {
  channelId: string;
  displayName: string;
  /** Videos whose analysis this check started. */
  found: FoundVideo[];
  /** Listed, but analysed, already started, or older than the age limit. */
  known: number;
  tooOld: number;
  error: string | null;
}

export async function listChannelsToCheck(pool: pg.Pool, channelIds?: readonly string[]): Promise<ChannelToCheck[]> {
  const { rows } = await pool.query<ChannelToCheck>(
    `SELECT id, platform, external_id AS "externalId", display_name AS "displayName"
       FROM competitor_channels
      WHERE platform <> 'manual' AND ($1::uuid[] IS NULL AND active OR id = ANY($1::uuid[]))
      ORDER BY last_checked_at NULLS FIRST, created_at`,
    [channelIds ?? null],
  );
  return rows;
}

export interface StartContext {
  client: Client;
  taskQueue: string;
  /** Seconds after discovery at which views are re-read; empty: no views workflow. */
  viewReadsSeconds: readonly number[];
}

/**
 * Starts the video's analysis, and for a YouTube video its views workflow. True when this
 * call started the analysis; false when a workflow with its id exists or existed.
 */
export async function startDiscoveredVideo(
  ctx: StartContext,
  input: DiscoveredVideoInput,
  opts: { channelExternalId?: string | null } = {},
): Promise<boolean> {
  const key = videoKey(input.url);
  let started = true;
  try {
    await ctx.client.workflow.start(COMPETITOR_VIDEO_WORKFLOW, {
      taskQueue: ctx.taskQueue,
      workflowId: competitorVideoWorkflowId(key),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...competitorVideoWorkflowMetadata(input),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Started by an earlier try of this call, which may have died before its views series: that one is started
    // below (once: its own REJECT_DUPLICATE), or the video's views would never be read.
    started = false;
  }
  // Views are re-read only where the platform gives them (the feed or the Data API, not Business Discovery).
  if (input.platform === 'youtube' && input.externalId && ctx.viewReadsSeconds.length) {
    const views: CompetitorViewsInput = {
      url: input.url,
      videoExternalId: input.externalId,
      channelExternalId: opts.channelExternalId ?? null,
      channelRowId: input.channelId ?? null,
      discoveredAt: new Date().toISOString(),
      initialViews: input.views,
      readsSeconds: [...ctx.viewReadsSeconds],
    };
    await startViewsWorkflow(ctx, views, input);
  }
  return started;
}

async function startViewsWorkflow(ctx: StartContext, views: CompetitorViewsInput, video: DiscoveredVideoInput): Promise<void> {
  try {
    await ctx.client.workflow.start(COMPETITOR_VIEWS_WORKFLOW, {
      taskQueue: ctx.taskQueue,
      workflowId: competitorViewsWorkflowId(videoKey(views.url)),
      args: [views],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...competitorViewsWorkflowMetadata(video),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

export interface RecordCheckInput {
  channel: ChannelToCheck;
  /** What the platform listed, newest first; null when the check failed. */
  videos: DiscoveredVideo[] | null;
  error: string | null;
  /** Videos older than this when first seen are not analysed. */
  maxAgeHours: number;
}

/** Records one channel's check: new videos started, the watermark, last check and error. */
export async function recordChannelCheck(pool: pg.Pool, ctx: StartContext, input: RecordCheckInput): Promise<ChannelCheckResult> {
  const { channel } = input;
  const result: ChannelCheckResult = {
    channelId: channel.id,
    displayName: channel.displayName,
    found: [],
    known: 0,
    tooOld: 0,
    error: input.error,
  };
  if (input.videos === null) {
    await pool.query(
      `UPDATE competitor_channels SET last_checked_at = now(), last_error = $2, last_error_at = now(), updated_at = now() WHERE id = $1`,
      [channel.id, input.error ?? 'check failed'],
    );
    return result;
  }
  const { rows } = await pool.query<{ newestVideoAt: Date | null; active: boolean }>(
    `SELECT newest_video_at AS "newestVideoAt", active FROM competitor_channels WHERE id = $1`,
    [channel.id],
  );
  // Removed while its check ran: nothing to record, nothing to start.
  if (!rows[0]) return { ...result, error: 'channel removed during the check' };
  const watermark = rows[0].newestVideoAt?.getTime() ?? null;
  const now = Date.now();
  const candidates = input.videos.filter((v) => {
    const at = v.publishedAt ? Date.parse(v.publishedAt) : null;
    if (at !== null && watermark !== null && at < watermark - WATERMARK_MARGIN_MS) {
      result.known += 1;
      return false;
    }
    if (at !== null && now - at > input.maxAgeHours * 3_600_000) {
      result.tooOld += 1;
      return false;
    }
    return true;
  });
  const urls = candidates.map((v) => canonicalVideoUrl(v.url));
  const { rows: analysed } = await pool.query<{ url: string }>('SELECT url FROM competitive_videos WHERE url = ANY($1::text[])', [urls]);
  const known = new Set(analysed.map((r) => r.url));
  for (const v of candidates) {
    if (known.has(canonicalVideoUrl(v.url))) {
      result.known += 1;
      continue;
    }
    const video: DiscoveredVideoInput = {
      url: v.url,
      platform: channel.platform === 'instagram' ? 'instagram' : 'youtube',
      externalId: v.externalId,
      channel: channel.displayName,
      channelId: channel.id,
      title: v.title,
      views: v.views ?? 0,
      publishedAt: v.publishedAt,
      mediaUrl: v.mediaUrl,
      durationSeconds: v.durationSeconds,
    };
    const started = await startDiscoveredVideo(ctx, video, { channelExternalId: channel.externalId });
    if (started) result.found.push({ url: v.url, title: v.title, publishedAt: v.publishedAt, views: v.views });
    else result.known += 1;
  }
  const newest = input.videos.reduce<DiscoveredVideo | null>(
    (best, v) => (v.publishedAt && (!best?.publishedAt || Date.parse(v.publishedAt) > Date.parse(best.publishedAt)) ? v : best),
    null,
  );
  await pool.query(
    `UPDATE competitor_channels
        SET last_checked_at = now(), last_error = NULL,
            videos_found = videos_found + $2,
            newest_video_id = CASE WHEN $4::timestamptz IS NOT NULL AND (newest_video_at IS NULL OR $4::timestamptz > newest_video_at)
                                   THEN $3 ELSE newest_video_id END,
            newest_video_at = GREATEST(newest_video_at, $4::timestamptz),
            updated_at = now()
      WHERE id = $1`,
    [channel.id, result.found.length, newest?.externalId ?? null, newest?.publishedAt ?? null],
  );
  return result;
}

export interface RecordViewsInput {
  url: string;
  at: string;
  views: number;
  /** Added first when the history is empty: the count seen at discovery. */
  initial?: ViewReading;
}

export type RecordViewsResult =
  { recorded: false; reason: 'no row yet' } | { recorded: true; velocity: number | null; viralPotential: number | null; readings: number };

/**
 * Appends a reading to the video's view_history, sets view_velocity from the last two
 * readings and raises viral_potential for a fresh video gaining views fast
 * (src/recommendations/view-velocity.ts). No row yet (analysis still running): skipped.
 */
export async function recordViews(pool: pg.Pool, input: RecordViewsInput): Promise<RecordViewsResult> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const { rows } = await db.query<{ id: string; viewHistory: ViewReading[]; publishedAt: Date | null; viralPotential: number | null }>(
      `SELECT id, view_history AS "viewHistory", published_at AS "publishedAt", viral_potential AS "viralPotential"
         FROM competitive_videos WHERE url = $1 FOR UPDATE`,
      [canonicalVideoUrl(input.url)],
    );
    const row = rows[0];
    if (!row) {
      await db.query('ROLLBACK');
      return { recorded: false, reason: 'no row yet' };
    }
    const history = [...(row.viewHistory ?? [])];
    if (history.length === 0 && input.initial) history.push(input.initial);
    // A retried activity must not add the same reading twice.
    if (!history.some((r) => r.at === input.at)) history.push({ at: input.at, views: input.views });
    history.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const velocity = viewVelocity(history);
    const ageHours = row.publishedAt ? (Date.parse(input.at) - row.publishedAt.getTime()) / 3_600_000 : null;
    const potential = raisedPotential(row.viralPotential, potentialFromVelocity(velocity, ageHours));
    await db.query(
      `UPDATE competitive_videos
          SET view_history = $2::jsonb, view_velocity = $3, viral_potential = $4, views = GREATEST(views, $5), updated_at = now()
        WHERE id = $1`,
      [row.id, JSON.stringify(history), velocity, potential, input.views],
    );
    await db.query('COMMIT');
    return { recorded: true, velocity, viralPotential: potential, readings: history.length };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}
