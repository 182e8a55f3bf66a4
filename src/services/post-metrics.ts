/**
 * After publishing: each post's metrics series (the post-metrics workflow started once per post), the readings it
 * records in post_metrics, and the reads of them the CLI, API and dashboard share.
 */
import type { Client } from '@temporalio/client';
import { startWorkflowOnce } from '../temporal/client';
import type pg from 'pg';
import { METRICS_HOUR_MS, METRICS_READ_WAIT_MS, PUBLISH_PLATFORMS, type PublishPlatform } from '../config/providers';
import type { PostMetrics } from '../providers/types';
import { median, type PerformanceSample } from '../recommendations/performance';
import { RecommendationGoneError } from '../shared/errors';
import { POST_METRICS_WORKFLOW, POST_METRICS_WORKFLOW_ID_PREFIX, postMetricsWorkflowId } from '../shared/workflow-ids';
import { postMetricsWorkflowMetadata } from '../shared/workflow-metadata';
import type { PostMetricsInput } from '../workflows/post-metrics';
import { sqlStateOf } from '../shared/connection-errors';

/** A timer's offset as a label: 1h, 6h, 24h, 3d, 7d; 90s or 2m in a compressed schedule. */
export function ageLabel(seconds: number): string {
  if (seconds >= 3 * 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds >= 3_600 && seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export interface StartMetricsContext {
  client: Client;
  /** The base queue the workflows run on. */
  taskQueue: string;
  /** REELFLOW_METRICS_READS: seconds after publishing. */
  readsSeconds: readonly number[];
  /** REELFLOW_METRICS_HOUR_MS; absent: an hour. */
  hourMs?: number;
}

/**
 * Starts the metrics series of every post a recommendation published (its completed publish jobs), each under
 * its post's workflow id with REJECT_DUPLICATE: called again (a retried activity), it starts nothing twice.
 * Returns the workflow ids started by this call.
 */
export async function startPostMetricsWorkflows(pool: pg.Pool, ctx: StartMetricsContext, recommendationId: string): Promise<string[]> {
  if (ctx.readsSeconds.length === 0) return [];
  const { rows } = await pool.query<{ result: { platform?: string; postId?: string } | null; completed_at: Date; title: string }>(
    `SELECT q.result, q.completed_at, r.title FROM automation_queue q
       JOIN competitive_recommendations r ON r.id = q.recommendation_id
      WHERE q.recommendation_id = $1 AND q.step LIKE 'publish:%' AND q.status = 'completed'`,
    [recommendationId],
  );
  const started: string[] = [];
  for (const row of rows) {
    const platform = row.result?.platform;
    const postId = row.result?.postId;
    if (!postId || !PUBLISH_PLATFORMS.includes(platform as PublishPlatform)) continue;
    const input: PostMetricsInput = {
      recommendationId,
      platform: platform as PublishPlatform,
      postId,
      // The publish job completed when the platform said the post was live: the timers count from there.
      publishedAt: row.completed_at.toISOString(),
      readsSeconds: [...ctx.readsSeconds],
      hourMs: ctx.hourMs,
    };
    // Its schedule first, so the reports know when it reads (a retried call writes nothing twice; the workflow
    // started below runs on the same input).
    await pool.query(
      `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, post_id) DO NOTHING`,
      [input.platform, postId, recommendationId, input.publishedAt, input.readsSeconds, input.hourMs ?? METRICS_HOUR_MS],
    );
    const workflowId = postMetricsWorkflowId(input.platform, postId);
    const fresh = await startWorkflowOnce(ctx.client, POST_METRICS_WORKFLOW, {
      taskQueue: ctx.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...postMetricsWorkflowMetadata({ ...input, title: row.title }),
    });
    if (fresh) started.push(workflowId);
  }
  return started;
}

export interface RecordPostMetricsInput {
  recommendationId: string;
  platform: PublishPlatform;
  postId: string;
  publishedAt: string;
  readAt: string;
  ageSeconds: number;
  jobId: string | null;
  metrics: PostMetrics;
}

/** Throws RecommendationGoneError when `recommendationId` is not in the database. */
export async function assertRecommendationKept(pool: pg.Pool, recommendationId: string): Promise<void> {
  const { rowCount } = await pool.query('SELECT 1 FROM competitive_recommendations WHERE id = $1', [recommendationId]);
  if (!rowCount) throw recommendationGone(recommendationId);
}

const recommendationGone = (id: string) =>
  new RecommendationGoneError(
    `recommendation ${id} is not in this database (deleted, or the database started over while Temporal kept its workflows): ` +
      'its metrics series ends',
  );

/** One reading; a retried record of the same post and timer rewrites its row. */
export async function recordPostMetrics(pool: pg.Pool, r: RecordPostMetricsInput): Promise<void> {
  try {
    await insertPostMetrics(pool, r);
  } catch (err) {
    // Deleted between the read and this row (the table's one foreign key): the same end as found before the read.
    if (sqlStateOf(err) === '23503') throw recommendationGone(r.recommendationId);
    throw err;
  }
}

async function insertPostMetrics(pool: pg.Pool, r: RecordPostMetricsInput): Promise<void> {
  const m = r.metrics;
  await pool.query(
    `INSERT INTO post_metrics (recommendation_id, platform, post_id, published_at, read_at, age_seconds, age_bucket,
       views, reach, likes, comments, shares, saves, interactions, job_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (platform, post_id, age_seconds) DO UPDATE SET read_at = EXCLUDED.read_at, views = EXCLUDED.views,
       reach = EXCLUDED.reach, likes = EXCLUDED.likes, comments = EXCLUDED.comments, shares = EXCLUDED.shares,
       saves = EXCLUDED.saves, interactions = EXCLUDED.interactions, job_id = EXCLUDED.job_id`,
    [
      r.recommendationId,
      r.platform,
      r.postId,
      r.publishedAt,
      r.readAt,
      r.ageSeconds,
      ageLabel(r.ageSeconds),
      m.views,
      m.reach,
      m.likes,
      m.comments,
      m.shares,
      m.saves,
      m.interactions,
      r.jobId,
    ],
  );
}

export interface PerformanceFilter {
  /** Posts published at or after this. */
  since?: Date;
  type?: string;
  platform?: PublishPlatform;
}

/** A recommendation's post on one platform. */
export interface PostOnPlatform {
  recommendationId: string;
  type: string;
  player: string | null;
  title: string;
  platform: PublishPlatform;
  postId: string;
  publishedAt: string;
}

/** The columns a PostOnPlatform is read from: content_performance's, and the unread posts' query's. */
interface PostRow {
  recommendation_id: string;
  recommendation_type: string;
  target_player: string | null;
  title: string;
  platform: PublishPlatform;
  post_id: string;
  published_at: Date | string;
}

const postOnPlatform = (r: PostRow): PostOnPlatform => ({
  recommendationId: r.recommendation_id,
  type: r.recommendation_type,
  player: r.target_player,
  title: r.title,
  platform: r.platform,
  postId: r.post_id,
  publishedAt: new Date(r.published_at).toISOString(),
});

/** A post no read has measured yet. */
export interface UnreadPost extends PostOnPlatform {
  /**
   * When its series' first timer fires, on the clock the workers run (the schedule it was started with); null when
   * no series is recorded for it (published before drizzle/0042, or its series not started yet).
   */
  firstReadAt: string | null;
  /**
   * Its series ended before any reading: the platform's reason (the post deleted or not visible to our token, a
   * SELF_ONLY TikTok post with no public id), or its last read's failure when every read failed. Null while it is
   * still to be read.
   */
  ended: string | null;
}

/** One row of content_performance: a recommendation's post on one platform, measured. */
export interface PostPerformance extends PostOnPlatform {
  views24h: number | null;
  views7d: number | null;
  viewsLatest: number | null;
  likesLatest: number | null;
  commentsLatest: number | null;
  sharesLatest: number | null;
  lastReadAt: string;
  lastAge: string;
  readings: number;
  /** Cost recorded on the recommendation's jobs (KIE credits of its renders). */
  spend: number;
  /** spend / the recommendation's latest views on all its platforms; null before any view. */
  spendPerView: number | null;
  /** This post's part of spend: the video cost its renders once, its N measured posts carry 1/N each. */
  spendShare: number;
  /** Every reading of this post, oldest first: the chart's line. */
  series: Array<{ age: string; ageSeconds: number; readAt: string; views: number | null }>;
  /**
   * Its series is behind (behindSeries): a reading due long enough ago to have been taken is not there, and why. Null
   * while it keeps up (or has read every timer).
   */
  behind: SeriesBehind | null;
}

/** A metrics series that stopped measuring its post, or missed its latest reading. */
export interface SeriesBehind {
  /** The latest timer due (its label, e.g. 24h) with no reading at or after it. */
  age: string;
  dueAt: string;
  /** The post gone (the read that found it, and the series ended), its read's failure, or no read taken at all. */
  reason: string;
}

export interface PerformanceGroup {
  key: string;
  posts: number;
  /** Median views at +24 h of its posts with a +24 h reading; null when none has one yet. */
  medianViews24h: number | null;
  totalViews: number;
  spend: number;
  spendPerView: number | null;
}

export interface PerformanceReport {
  posts: PostPerformance[];
  /**
   * Posts published (since the filter's date, else in the week) that no read has measured yet, newest first:
   * without them a report read right after publishing says nothing was published.
   */
  unread: UnreadPost[];
  /**
   * The soonest firstReadAt of the unread posts still to be read (not `ended`): when the next of them is read; null
   * when none has a series recorded.
   */
  firstReadingAt: string | null;
  byType: PerformanceGroup[];
  byPlayer: PerformanceGroup[];
  byPlatform: PerformanceGroup[];
  /**
   * The week's best and worst (posts published in the last 7 days): post by latest views, idea type and player by
   * latest views per post (a week-old post has no +7 d reading and a day-old one no +24 h yet).
   */
  week: {
    best: PostPerformance | null;
    worst: PostPerformance | null;
    bestType: PerformanceGroup | null;
    worstType: PerformanceGroup | null;
    bestPlayer: PerformanceGroup | null;
    worstPlayer: PerformanceGroup | null;
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The report's week (its best and worst), and how far back posts with no reading are looked for when the filter names
 * no date (the default series' length): the same 7 days, so an unfiltered report's `unread` is the week's.
 */
const WEEK_MS = 7 * 86_400_000;

/**
 * The posts the metrics series start from (completed publish jobs, as startPostMetricsWorkflows reads them) that
 * have no post_metrics row. Through the completed jobs' index, per publishing platform: never the whole table.
 */
async function readUnread(pool: pg.Pool, filter: PerformanceFilter, now: Date): Promise<UnreadPost[]> {
  const params: unknown[] = [
    filter.platform ? [filter.platform] : [...PUBLISH_PLATFORMS],
    filter.since ?? new Date(now.getTime() - WEEK_MS),
    POST_METRICS_WORKFLOW_ID_PREFIX,
  ];
  // The first timer as the workflow's atOffsets (src/workflows/timed-reads.ts) sets it: published + offset x ms a second.
  const { rows } = await pool.query<PostRow & { first_read_at: Date | null; ended: string | null }>(
    `SELECT q.recommendation_id, r.recommendation_type, r.target_player, r.title, q.result->>'platform' AS platform,
            q.result->>'postId' AS post_id, q.completed_at AS published_at,
            s.published_at + s.reads_seconds[1] * (s.hour_ms / 3600.0) * interval '1 millisecond' AS first_read_at,
            coalesce(gone.reason, failed.reason) AS ended
       FROM automation_queue q JOIN competitive_recommendations r ON r.id = q.recommendation_id
       LEFT JOIN post_metric_series s ON s.platform = q.result->>'platform' AND s.post_id = q.result->>'postId'
       -- A read that found the post gone ended its series (the read's job keeps the platform's reason).
       LEFT JOIN LATERAL (
         SELECT j.result->>'reason' AS reason FROM automation_queue j
          WHERE j.workflow_id = $3 || (q.result->>'platform') || '-' || (q.result->>'postId')
            AND j.status = 'completed' AND j.result->>'gone' = 'true'
          LIMIT 1
       ) gone ON true
       -- So did its last read failing with none before it recorded (a permission missing all along): listed as due,
       -- days in the past and with no reason, it would never be read. The last read's job says why.
       LEFT JOIN LATERAL (
         SELECT 'every read failed; the last: ' || coalesce(j.error, j.status) AS reason FROM automation_queue j
          WHERE j.workflow_id = $3 || (q.result->>'platform') || '-' || (q.result->>'postId')
            AND j.step = 'metrics:' || s.reads_seconds[array_upper(s.reads_seconds, 1)]
            AND j.status IN ('failed', 'cancelled')
       ) failed ON true
      WHERE q.api_provider = ANY($1::text[]) AND q.completed_at >= $2 AND q.status = 'completed'
        AND q.step LIKE 'publish:%' AND q.result ? 'postId'
        ${filter.type ? `AND r.recommendation_type = $${params.push(filter.type)}` : ''}
        AND NOT EXISTS (SELECT 1 FROM post_metrics m WHERE m.platform = q.result->>'platform' AND m.post_id = q.result->>'postId')
      ORDER BY q.completed_at DESC`,
    params,
  );
  return rows.map((r) => ({ ...postOnPlatform(r), firstReadAt: r.first_read_at?.toISOString() ?? null, ended: r.ended }));
}

/** A post's series behind its timers, as behindSeries reads it. */
export interface BehindSeries {
  platform: string;
  postId: string;
  recommendationId: string;
  title: string;
  /** The missed timer's age in seconds. */
  missedSeconds: number;
  /** The missed timer last told to the team (src/workers/metrics-watch.ts), if any. */
  toldSeconds: number | null;
  /** Its latest reading's age in seconds (null: none). */
  lastReadSeconds: number | null;
  behind: SeriesBehind;
}

/**
 * The series behind: the latest timer due before `now` less twice the read's wait (its job's deadline, then as long
 * again to run) has no reading at or after its age. A series that stopped (a read found the post gone, its workflow
 * terminated or failing, its worker away) or whose read keeps failing (a token without the read scope, a spent quota)
 * otherwise looked, after its first reading, like a young post doing fine; and the engine, learning from +24 h
 * readings only, silently lost it. Of `which.posts`, or of every series of a post published since `which.since`.
 */
export async function behindSeries(
  pool: pg.Pool,
  which: { posts: ReadonlyArray<{ platform: string; post_id: string }> } | { since: Date },
  now: Date,
  readWaitMs: number,
): Promise<BehindSeries[]> {
  const posts = 'posts' in which ? which.posts : null;
  if (posts && !posts.length) return [];
  // Which series, as its own statement's condition (a constant-folded `$1 IS NULL OR …` keeps the index unused).
  const [whichSql, whichParams] = posts
    ? [
        `(s.platform, s.post_id) IN (SELECT * FROM unnest($4::text[], $5::text[]))`,
        [posts.map((p) => p.platform), posts.map((p) => p.post_id)],
      ]
    : ['s.published_at >= $4', ['since' in which ? which.since : null]];
  const { rows } = await pool.query<{
    platform: string;
    post_id: string;
    recommendation_id: string;
    title: string;
    missed: number;
    told: number | null;
    last_read: number | null;
    due_at: Date;
    status: string | null;
    error: string | null;
    gone: string | null;
  }>(
    `SELECT s.platform, s.post_id, s.recommendation_id, r.title, d.missed, s.behind_told_seconds AS told,
            (SELECT max(m.age_seconds) FROM post_metrics m WHERE m.platform = s.platform AND m.post_id = s.post_id) AS last_read,
            s.published_at + d.missed * (s.hour_ms / 3600.0) * interval '1 millisecond' AS due_at,
            j.status, j.error, gone.reason AS gone
       FROM post_metric_series s
       JOIN competitive_recommendations r ON r.id = s.recommendation_id
      CROSS JOIN LATERAL (
        SELECT max(o) AS missed FROM unnest(s.reads_seconds) o
         WHERE s.published_at + o * (s.hour_ms / 3600.0) * interval '1 millisecond' < $1::timestamptz - $2 * interval '1 millisecond'
      ) d
       LEFT JOIN automation_queue j ON j.workflow_id = $3 || s.platform || '-' || s.post_id AND j.step = 'metrics:' || d.missed
       -- A read that found the post gone ended the series, whichever timer it was.
       LEFT JOIN LATERAL (
         SELECT coalesce(g.result->>'reason', 'the platform says it is gone') AS reason FROM automation_queue g
          WHERE g.workflow_id = $3 || s.platform || '-' || s.post_id AND g.status = 'completed' AND g.result->>'gone' = 'true'
          LIMIT 1
       ) gone ON true
      WHERE ${whichSql}
        AND d.missed IS NOT NULL
        -- A series started late (a post adopted days after it went up) has had as long as any to take its reading.
        AND s.created_at < $1::timestamptz - $2 * interval '1 millisecond'
        AND NOT EXISTS (SELECT 1 FROM post_metrics m
                         WHERE m.platform = s.platform AND m.post_id = s.post_id AND m.age_seconds >= d.missed)
      ORDER BY s.published_at DESC`,
    [now, 2 * readWaitMs, POST_METRICS_WORKFLOW_ID_PREFIX, ...whichParams],
  );
  return rows.map((r) => {
    const age = ageLabel(r.missed);
    const describe = `temporal workflow describe --workflow-id ${postMetricsWorkflowId(r.platform as PublishPlatform, r.post_id)}`;
    const reason = r.gone
      ? `the post is gone (${r.gone}): its series ended`
      : r.status === 'failed' || r.status === 'cancelled'
        ? `its +${age} read ${r.status === 'failed' ? 'failed' : 'was given up'}: ${r.error ?? 'no reason recorded'}`
        : r.status === 'completed'
          ? `its +${age} read was answered but its reading never recorded: its series stopped (${describe})`
          : r.status
            ? `its +${age} read is still ${r.status}`
            : `no +${age} read was taken: its series stopped (${describe})`;
    return {
      platform: r.platform,
      postId: r.post_id,
      recommendationId: r.recommendation_id,
      title: r.title,
      missedSeconds: r.missed,
      toldSeconds: r.told,
      lastReadSeconds: r.last_read,
      behind: { age, dueAt: r.due_at.toISOString(), reason },
    };
  });
}

/** How far back the report looks when no --since is given (the CLI, the API and the dashboard's panel). */
export const DEFAULT_PERFORMANCE_SINCE_MS = 30 * 86_400_000;

export async function readPerformance(
  pool: pg.Pool,
  filter: PerformanceFilter = {},
  now = new Date(),
  /** REELFLOW_METRICS_READ_WAIT_SECONDS in ms: how long a read may wait for its slot (behindSeries). */
  readWaitMs = METRICS_READ_WAIT_MS,
): Promise<PerformanceReport> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.since) where.push(`published_at >= $${params.push(filter.since)}`);
  if (filter.type) where.push(`recommendation_type = $${params.push(filter.type)}`);
  if (filter.platform) where.push(`platform = $${params.push(filter.platform)}`);
  const { rows } = await pool.query(
    `SELECT * FROM content_performance ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY published_at DESC, platform`,
    params,
  );
  const series = rows.length
    ? (
        await pool.query<{
          platform: string;
          post_id: string;
          age_bucket: string;
          age_seconds: number;
          read_at: Date;
          views: string | null;
        }>(
          `SELECT platform, post_id, age_bucket, age_seconds, read_at, views FROM post_metrics
            WHERE (platform, post_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY age_seconds`,
          [rows.map((r) => r.platform), rows.map((r) => r.post_id)],
        )
      ).rows
    : [];
  const behind = new Map(
    (await behindSeries(pool, { posts: rows }, now, readWaitMs)).map((b) => [`${b.platform}\u0000${b.postId}`, b.behind]),
  );
  const posts: PostPerformance[] = rows.map((r) => ({
    ...postOnPlatform(r),
    views24h: num(r.views_24h),
    views7d: num(r.views_7d),
    viewsLatest: num(r.views_latest),
    likesLatest: num(r.likes_latest),
    commentsLatest: num(r.comments_latest),
    sharesLatest: num(r.shares_latest),
    lastReadAt: new Date(r.last_read_at).toISOString(),
    lastAge: r.last_age_bucket,
    readings: Number(r.readings),
    spend: Number(r.spend),
    spendPerView: num(r.spend_per_view),
    spendShare: Number(r.spend_share),
    series: series
      .filter((s) => s.platform === r.platform && s.post_id === r.post_id)
      .map((s) => ({ age: s.age_bucket, ageSeconds: s.age_seconds, readAt: s.read_at.toISOString(), views: num(s.views) })),
    behind: behind.get(`${r.platform}\u0000${r.post_id}`) ?? null,
  }));
  const weekStart = now.getTime() - WEEK_MS;
  const week = posts.filter((p) => Date.parse(p.publishedAt) >= weekStart && p.viewsLatest !== null);
  const byViews = [...week].sort((a, b) => b.viewsLatest! - a.viewsLatest!);
  const ends = (groups: PerformanceGroup[]) => {
    const ranked = [...groups].sort((a, b) => b.totalViews / b.posts - a.totalViews / a.posts);
    return { best: ranked[0] ?? null, worst: ranked.length > 1 ? ranked[ranked.length - 1]! : null };
  };
  const weekTypes = ends(groupBy(week, (p) => p.type));
  const weekPlayers = ends(
    groupBy(
      week.filter((p) => p.player),
      (p) => p.player!,
    ),
  );
  const unread = await readUnread(pool, filter, now);
  return {
    posts,
    unread,
    // ISO strings of one format sort as times do.
    firstReadingAt: unread.flatMap((u) => (u.firstReadAt && !u.ended ? [u.firstReadAt] : [])).sort()[0] ?? null,
    byType: groupBy(posts, (p) => p.type),
    byPlayer: groupBy(
      posts.filter((p) => p.player),
      (p) => p.player!,
    ),
    byPlatform: groupBy(posts, (p) => p.platform),
    week: {
      best: byViews[0] ?? null,
      worst: byViews.length > 1 ? byViews[byViews.length - 1]! : null,
      bestType: weekTypes.best,
      worstType: weekTypes.worst,
      bestPlayer: weekPlayers.best,
      worstPlayer: weekPlayers.worst,
    },
  };
}

function groupBy(posts: PostPerformance[], key: (p: PostPerformance) => string): PerformanceGroup[] {
  const groups = new Map<string, PostPerformance[]>();
  for (const p of posts) groups.set(key(p), [...(groups.get(key(p)) ?? []), p]);
  return [...groups.entries()]
    .map(([k, list]) => {
      const totalViews = list.reduce((sum, p) => sum + (p.viewsLatest ?? 0), 0);
      // Each post's share: a video in the group on all its platforms counts its spend once, and a group by platform
      // sums to what was spent (the whole cost on each platform's row counted it once per platform).
      const spend = list.reduce((sum, p) => sum + p.spendShare, 0);
      return {
        key: k,
        posts: list.length,
        medianViews24h: median(list.flatMap((p) => (p.views24h === null ? [] : [p.views24h]))),
        totalViews,
        spend,
        spendPerView: totalViews > 0 ? spend / totalViews : null,
      };
    })
    .sort((a, b) => b.totalViews - a.totalViews);
}

/**
 * What the engine learns from: every post with a +24 h reading published in the last `days` days (default 90:
 * a season's half, so what worked last season fades out).
 */
export async function loadPerformanceSamples(pool: Pick<pg.Pool, 'query'>, now = new Date(), days = 90): Promise<PerformanceSample[]> {
  const { rows } = await pool.query<{
    recommendation_id: string;
    recommendation_type: string;
    target_player: string | null;
    platform: string;
    views_24h: string;
  }>(
    `SELECT recommendation_id, recommendation_type, target_player, platform, views_24h FROM content_performance
      WHERE views_24h IS NOT NULL AND published_at >= $1`,
    [new Date(now.getTime() - days * 86_400_000)],
  );
  return rows.map((r) => ({
    video: r.recommendation_id,
    type: r.recommendation_type,
    player: r.target_player,
    platform: r.platform,
    views24h: Number(r.views_24h),
  }));
}
