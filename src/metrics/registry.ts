/**
 * Prometheus metrics of the queue, computed at scrape time from PostgreSQL.
 * The database is the source of truth (workers in many processes write it),
 * so every API replica reports the same numbers: aggregate with max(), not sum().
 *
 * The wait/run histograms cover jobs of the last `windowSeconds` and are rebuilt
 * on every scrape: read them directly, e.g.
 * `histogram_quantile(0.95, sum by (le, provider) (reelflow_job_wait_seconds_bucket))`,
 * not through rate(). The *_total counters are all-time sums over the tables.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PRIORITIES } from '../config/priorities';
import { PROVIDERS, PUBLISH_PLATFORMS } from '../config/providers';
import { median } from '../recommendations/performance';
import { RECOMMENDATION_TYPES } from '../validation';
import type { Database } from '../db/client';
import { providerPanels } from '../api/stats';
import type { QueueWorkers } from '../temporal/queue-workers';
import { JOB_STATUSES, RECOMMENDATION_STATUSES } from '../shared/statuses';

export interface MetricsOptions {
  database: Database;
  /** Jobs started/completed within this many seconds feed the histograms. Default 86 400 (24 h). */
  windowSeconds?: number;
  /** Also export Node process metrics (prefixed reelflow_api_). Default true. */
  defaultMetrics?: boolean;
  /** Live workers per task queue (Temporal's view); without it reelflow_queue_workers is not exported. */
  workers?: () => Promise<QueueWorkers[]>;
}

export interface Metrics {
  registry: Registry;
  contentType: string;
  /** Reads the database and renders the exposition text; concurrent scrapes share one read. */
  scrape(): Promise<string>;
}

/** Seconds; the line can be hours long for P3 work, a VEO3 render takes minutes. */
const WAIT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400];
const RUN_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export function createMetrics(opts: MetricsOptions): Metrics {
  const { pool } = opts.database;
  const windowSeconds = opts.windowSeconds ?? 86_400;
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'reelflow_api_' });
  const registers = [registry];
  /** Most series are one number per provider. */
  const providerGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['provider'], registers });

  const queueDepth = new Gauge({
    name: 'reelflow_queue_depth',
    help: 'Jobs queued (not yet started), by provider and priority',
    labelNames: ['provider', 'priority'],
    registers,
  });
  const jobs = new Gauge({ name: 'reelflow_jobs', help: 'Jobs by provider and status', labelNames: ['provider', 'status'], registers });
  const inFlight = providerGauge('reelflow_provider_in_flight', 'Provider slots held right now');
  const cap = providerGauge('reelflow_provider_max_concurrent', 'Provider concurrency cap');
  const waiting = providerGauge('reelflow_provider_waiting', "Queued jobs whose activity is waiting for a slot (the provider's line)");
  const planned = providerGauge(
    'reelflow_provider_planned',
    'Queued jobs not asking for a slot yet (later steps of a plan, scheduled work)',
  );
  const spacing = providerGauge('reelflow_provider_min_start_interval_seconds', 'Minimum spacing between two starts on a provider');
  const stuck = providerGauge('reelflow_jobs_stuck', 'Processing jobs running longer than 2x their estimated duration');
  const costToday = providerGauge('reelflow_cost_today', 'Cost of jobs completed since midnight (database time zone)');
  // Quotas and budgets (drizzle/0009 quota_status): one series per quota, labelled with whose it is and its unit.
  const quotaGauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['quota', 'provider', 'account', 'unit'], registers });
  const quotaUsed = quotaGauge('reelflow_quota_used', 'Units spent in the current window (ours, or the provider-reported use if larger)');
  const quotaLimit = quotaGauge('reelflow_quota_limit', "Units the window allows (ours, or the provider's if it reported a smaller one)");
  const quotaReset = quotaGauge(
    'reelflow_quota_reset_timestamp_seconds',
    'When units next come back (Unix time); absent for a moving window with nothing spent',
  );
  const quotaParked = quotaGauge('reelflow_quota_parked', "1 while the quota is parked after the provider's own quota error, else 0");
  const nextStart = providerGauge(
    'reelflow_provider_next_start_timestamp_seconds',
    'ETA (Unix time) of the waiting job expected to start first on the provider; absent when nothing waits',
  );
  const costTotal = new Counter({ name: 'reelflow_cost_total', help: 'Cost of all jobs recorded', labelNames: ['provider'], registers });
  const attempts = new Counter({
    name: 'reelflow_job_attempts_total',
    help: 'Attempts made by all jobs',
    labelNames: ['provider'],
    registers,
  });
  const failures = new Counter({
    name: 'reelflow_job_failures_total',
    help: 'Jobs that ended failed',
    labelNames: ['provider'],
    registers,
  });
  const retries = new Counter({
    name: 'reelflow_job_retries_total',
    help: 'Failed attempts that were retried',
    labelNames: ['provider'],
    registers,
  });
  const recommendations = new Gauge({
    name: 'reelflow_recommendations',
    help: 'Recommendations by status',
    labelNames: ['status'],
    registers,
  });
  // Alert on == 0: a queue nobody serves leaves its jobs queued with nothing running late.
  const queueWorkersGauge = opts.workers
    ? new Gauge({
        name: 'reelflow_queue_workers',
        help: 'Worker processes polling each task queue (Temporal)',
        labelNames: ['queue'],
        registers,
      })
    : undefined;
  // After publishing (content_performance): per platform and per idea type, never per post or player, whose
  // number grows without bound; the dashboard and `reelflow performance` show those.
  const postViews = new Gauge({
    name: 'reelflow_post_views',
    help: 'Latest views of the posts published in the last 7 days',
    labelNames: ['platform'],
    registers,
  });
  const postsMeasured = new Gauge({
    name: 'reelflow_posts_measured',
    help: 'Posts published in the last 30 days with at least one metrics reading',
    labelNames: ['platform'],
    registers,
  });
  const views24hMedian = new Gauge({
    name: 'reelflow_post_views_first_day_median',
    help: 'Median views at +24 h of the posts published in the last 30 days, by idea type',
    labelNames: ['type'],
    registers,
  });
  const spendPerView = new Gauge({
    name: 'reelflow_spend_per_view',
    help: 'Cost recorded on the jobs of ideas published in the last 30 days over their latest views, by idea type',
    labelNames: ['type'],
    registers,
  });
  /** Per provider, over the jobs of the last window (the registry is refreshed from the database). */
  const jobHistogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help: `${help} in the last ${windowSeconds} s`, labelNames: ['provider'], buckets, registers });
  const waitSeconds = jobHistogram('reelflow_job_wait_seconds', 'Enqueue to start (started_at - created_at) of jobs started', WAIT_BUCKETS);
  const runSeconds = jobHistogram(
    'reelflow_job_run_seconds',
    'Start to completion (completed_at - started_at) of jobs completed',
    RUN_BUCKETS,
  );

  async function read() {
    // Temporal down must not take the database's figures with it: the series goes absent instead.
    const workersRead = opts.workers ? opts.workers().catch(() => null) : Promise.resolve([]);
    const [panels, depth, byStatus, totals, durations, recs, perf] = await Promise.all([
      providerPanels(pool),
      pool.query<{ provider: string; priority: string; n: number }>(
        `SELECT api_provider AS provider, priority, count(*)::int AS n FROM automation_queue WHERE status = 'queued' GROUP BY 1, 2`,
      ),
      pool.query<{ provider: string; status: string; n: number }>(
        `SELECT api_provider AS provider, status, count(*)::int AS n FROM automation_queue GROUP BY 1, 2`,
      ),
      pool.query<{ provider: string; attempts: number; failed: number; retries: number }>(`
        SELECT q.api_provider AS provider, sum(q.attempts)::float8 AS attempts,
               count(*) FILTER (WHERE q.status = 'failed')::int AS failed,
               coalesce(sum(r.n), 0)::int AS retries
          FROM automation_queue q
          LEFT JOIN LATERAL (SELECT count(*) AS n FROM job_events e WHERE e.job_id = q.id AND e.event = 'retrying') r ON true
         GROUP BY 1`),
      pool.query<{ provider: string; kind: 'wait' | 'run'; seconds: number }>(
        `SELECT api_provider AS provider, 'wait' AS kind, extract(epoch FROM started_at - created_at)::float8 AS seconds
           FROM automation_queue WHERE started_at > now() - make_interval(secs => $1)
         UNION ALL
         SELECT api_provider, 'run', extract(epoch FROM completed_at - started_at)::float8
           FROM automation_queue WHERE status = 'completed' AND completed_at > now() - make_interval(secs => $1)`,
        [windowSeconds],
      ),
      pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM competitive_recommendations GROUP BY 1`),
      pool.query<{
        platform: string;
        type: string;
        recommendation_id: string;
        views_24h: string | null;
        views_latest: string | null;
        spend: string;
        recent: boolean;
      }>(
        `SELECT platform, recommendation_type AS type, recommendation_id, views_24h, views_latest, spend,
                published_at > now() - interval '7 days' AS recent
           FROM content_performance WHERE published_at > now() - interval '30 days'`,
      ),
    ]);
    const workers = await workersRead;
    return {
      panels,
      depth: depth.rows,
      byStatus: byStatus.rows,
      totals: totals.rows,
      durations: durations.rows,
      recs: recs.rows,
      perf: perf.rows,
      workers,
    };
  }

  // Synchronous on purpose: a scrape never sees half of one read and half of another.
  function apply(data: Awaited<ReturnType<typeof read>>) {
    for (const m of [queueDepth, jobs, costTotal, attempts, failures, retries, recommendations, waitSeconds, runSeconds]) m.reset();
    // A quota renamed or removed, a line emptied: its series goes, rather than repeating a stale value.
    for (const m of [quotaUsed, quotaLimit, quotaReset, quotaParked, nextStart]) m.reset();
    // Every series exists even at zero, so dashboards and alerts see 0 rather than "no data".
    for (const provider of PROVIDERS) {
      for (const priority of PRIORITIES) queueDepth.set({ provider, priority }, 0);
      for (const status of JOB_STATUSES) jobs.set({ provider, status }, 0);
      attempts.inc({ provider }, 0);
      failures.inc({ provider }, 0);
      retries.inc({ provider }, 0);
      costTotal.inc({ provider }, 0);
      waitSeconds.zero({ provider });
      runSeconds.zero({ provider });
    }
    for (const status of RECOMMENDATION_STATUSES) recommendations.set({ status }, 0);

    for (const r of data.depth) queueDepth.set({ provider: r.provider, priority: r.priority }, r.n);
    for (const r of data.byStatus) jobs.set({ provider: r.provider, status: r.status }, r.n);
    for (const p of data.panels) {
      const labels = { provider: p.provider };
      inFlight.set(labels, p.inUse);
      cap.set(labels, p.maxConcurrent);
      waiting.set(labels, p.waiting);
      planned.set(labels, p.planned);
      spacing.set(labels, p.minStartIntervalMs / 1000);
      stuck.set(labels, p.stuck);
      costToday.set(labels, p.costToday);
      costTotal.inc(labels, p.costTotal ?? 0);
      if (p.nextStart?.eta) nextStart.set(labels, p.nextStart.eta.getTime() / 1000);
      for (const q of p.quotas) {
        const ql = { quota: q.name, provider: q.provider, account: q.account, unit: q.unit };
        quotaUsed.set(ql, q.used);
        quotaLimit.set(ql, q.limit);
        if (q.resetAt) quotaReset.set(ql, q.resetAt.getTime() / 1000);
        quotaParked.set(ql, q.parkedUntil ? 1 : 0);
      }
    }
    for (const t of data.totals) {
      attempts.inc({ provider: t.provider }, t.attempts);
      failures.inc({ provider: t.provider }, t.failed);
      retries.inc({ provider: t.provider }, t.retries);
    }
    for (const d of data.durations) {
      // A clock step between hosts can make a duration slightly negative; it is still "no wait".
      (d.kind === 'wait' ? waitSeconds : runSeconds).observe({ provider: d.provider }, Math.max(0, d.seconds));
    }
    for (const r of data.recs) recommendations.set({ status: r.status }, r.n);
    applyPerformance(data.perf);
    queueWorkersGauge?.reset();
    for (const w of data.workers ?? []) queueWorkersGauge?.set({ queue: w.queue }, w.workers);
  }

  function applyPerformance(rows: Awaited<ReturnType<typeof read>>['perf']) {
    for (const m of [postViews, postsMeasured, views24hMedian, spendPerView]) m.reset();
    for (const platform of PUBLISH_PLATFORMS) {
      postViews.set(
        { platform },
        rows.filter((r) => r.platform === platform && r.recent).reduce((a, r) => a + Number(r.views_latest ?? 0), 0),
      );
      postsMeasured.set({ platform }, rows.filter((r) => r.platform === platform).length);
    }
    for (const type of RECOMMENDATION_TYPES) {
      const list = rows.filter((r) => r.type === type);
      views24hMedian.set({ type }, median(list.flatMap((r) => (r.views_24h === null ? [] : [Number(r.views_24h)]))) ?? 0);
      // A recommendation's spend is on each of its platform rows: count it once.
      const spend = [...new Map(list.map((r) => [r.recommendation_id, Number(r.spend)])).values()].reduce((a, b) => a + b, 0);
      const views = list.reduce((a, r) => a + Number(r.views_latest ?? 0), 0);
      spendPerView.set({ type }, views > 0 ? spend / views : 0);
    }
  }

  let inFlightScrape: Promise<string> | undefined;
  return {
    registry,
    contentType: registry.contentType,
    scrape() {
      inFlightScrape ??= (async () => {
        try {
          apply(await read());
          return await registry.metrics();
        } finally {
          inFlightScrape = undefined;
        }
      })();
      return inFlightScrape;
    },
  };
}
