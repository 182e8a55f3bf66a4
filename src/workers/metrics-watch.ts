/**
 * Tells the team when a published post is no longer measured (event `stuck`): its metrics series missed its latest
 * reading (behindSeries, src/services/post-metrics.ts): the post gone, a read failing (a token that lost its read
 * scope: publishing goes on working, so nothing else fails), or no read taken at all (its workflow terminated or
 * failing, no worker). The performance panel and `reelflow performance` flag it to whoever looks; nobody looked, and
 * the +24 h reading the engine learns from was lost for good.
 *
 * Workers on the base queue run it. Each stop of a post's series is told once (post_metric_series.behind_told_seconds,
 * drizzle/0065), all of a round's in one message; marked once its message started, under a key of the posts and the
 * readings they miss, so two workers or a round repeated after a crash start one message.
 */
import { behindSeries, type BehindSeries } from '../services/post-metrics';
import { digestKey } from '../notifications/digest-key';
import { listWithin } from '../notifications/notify';
import { Ticker } from '../shared/ticker';
import type { Runtime } from './runtime';

/** Series of posts published this long ago or less are watched: longer than any schedule of reads in use. */
const WATCHED_MS = 60 * 86_400_000;

/** The message's key: the same posts missing the same readings are the same message, whoever starts it. */
export function behindKey(series: readonly BehindSeries[]): string {
  return digestKey(
    'metrics-behind',
    series.map((s) => `${s.platform}:${s.postId}#${s.missedSeconds}`),
  );
}

/** The message's head and its lines: each post, the reading it misses and why. */
export function behindText(series: readonly BehindSeries[]): { title: string; lines: string } {
  const title = series.length === 1 ? '1 published post is no longer measured' : `${series.length} published posts are no longer measured`;
  const lines = series.map((s) => `${s.platform} post ${s.postId} (${s.title}): no +${s.behind.age} reading: ${s.behind.reason}`);
  return { title, lines: listWithin(lines, (left) => `and ${left} more (reelflow performance)`) };
}

export function startMetricsWatch(
  runtime: Pick<Runtime, 'database' | 'log' | 'env'>,
  opts: { everyMs?: number; onBehind: (series: BehindSeries[]) => Promise<unknown> },
) {
  const { pool } = runtime.database;
  const readWaitMs = runtime.env.REELFLOW_METRICS_READ_WAIT_SECONDS * 1_000;
  const ticker = new Ticker(
    async () => {
      const now = new Date();
      const behind = await behindSeries(pool, { since: new Date(now.getTime() - WATCHED_MS) }, now, readWaitMs);
      // Told once a stop: a series that ended (its post gone, terminated) misses each later timer too, and is told
      // again only once it has caught up with the reading told (read since) and then misses another.
      const untold = behind.filter((s) => s.toldSeconds === null || (s.lastReadSeconds ?? -1) >= s.toldSeconds);
      if (!untold.length) return;
      runtime.log.warn({ posts: untold.map((s) => `${s.platform}:${s.postId}`) }, 'published posts are no longer measured');
      // Started first, then marked: a crash in between repeats this round's message under its key, never drops it.
      await opts.onBehind(untold);
      await pool.query(
        `UPDATE post_metric_series s SET behind_told_seconds = t.missed
           FROM unnest($1::text[], $2::text[], $3::int[]) AS t(platform, post_id, missed)
          WHERE s.platform = t.platform AND s.post_id = t.post_id`,
        [untold.map((s) => s.platform), untold.map((s) => s.postId), untold.map((s) => s.missedSeconds)],
      );
    },
    { everyMs: opts.everyMs ?? 5 * 60_000, onError: (err) => runtime.log.warn({ err }, 'metrics check failed; retrying') },
  );
  ticker.start();
  return { stop: () => ticker.stop() };
}
