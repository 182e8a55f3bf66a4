/**
 * /metrics and the dashboard snapshot against a queue state written straight
 * into a test database: every number is known in advance. No Temporal needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_LIMITS } from '../../src/config/providers';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import type { QueueName } from '../../src/config/providers';
import type { QueueWorkers } from '../../src/temporal/queue-workers';
import { dbOnlyService, sample, startTestApi, type TestApi } from './support';

let t: TestDatabase;
let api: TestApi;
let recId: string;
const q = (text: string, params: unknown[] = []) => t.database.pool.query(text, params);

let seq = 0;
/** Inserts a job with timestamps relative to the database clock (seconds ago; null = unset). */
async function job(o: {
  provider: string;
  priority?: string;
  status: string;
  createdAgo?: number;
  startedAgo?: number | null;
  completedAgo?: number | null;
  scheduleIn?: number | null;
  attempts?: number;
  cost?: number | null;
  error?: string | null;
  estimate?: number;
  slot?: boolean;
  /** Its activity is asking for a slot (waiting_since set). */
  inLine?: boolean;
}): Promise<string> {
  const ago = (s: number | null | undefined) => (s === null || s === undefined ? null : `${s} seconds`);
  const { rows } = await q(
    `INSERT INTO automation_queue (workflow_id, step, job_type, api_provider, priority, status, estimated_duration_seconds,
        attempts, max_attempts, cost, error, recommendation_id, created_at, started_at, completed_at, schedule_after)
     VALUES ($1, 'step', 'test_job', $2, $3, $4, $5, $6, 3, $7, $8, $9,
        now() - $10::interval, now() - $11::interval, now() - $12::interval, now() + $13::interval)
     RETURNING id`,
    [
      `wf-metrics-${++seq}`,
      o.provider,
      o.priority ?? 'P2',
      o.status,
      o.estimate ?? PROVIDER_LIMITS[o.provider as 'veo3'].estimatedDurationSeconds,
      o.attempts ?? 0,
      o.cost ?? null,
      o.error ?? null,
      recId,
      ago(o.createdAgo ?? 0),
      ago(o.startedAgo),
      ago(o.completedAgo),
      o.scheduleIn ? `${o.scheduleIn} seconds` : null,
    ],
  );
  const id = rows[0].id as string;
  if (o.inLine) await q(`UPDATE automation_queue SET waiting_since = now(), last_heartbeat_at = now() WHERE id = $1`, [id]);
  if (o.slot) {
    await q(`INSERT INTO provider_slots (job_id, provider, lease_expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [id, o.provider]);
  }
  return id;
}

let failedJob: string;
beforeAll(async () => {
  t = await createTestDatabase();
  const { rows } = await q(
    `INSERT INTO competitive_recommendations (priority, recommendation_type, title)
     VALUES ('P1', 'bargain', 'Chollo de la jornada') RETURNING id`,
  );
  recId = rows[0].id;
  // Line: veo3 2xP0 + 1xP1 asking for a slot, openai 1xP0 planned (a later step), instagram 1xP3 scheduled for later.
  await job({ provider: 'veo3', priority: 'P0', status: 'queued', inLine: true });
  await job({ provider: 'veo3', priority: 'P0', status: 'queued', inLine: true });
  await job({ provider: 'veo3', priority: 'P1', status: 'queued', inLine: true });
  await job({ provider: 'openai', priority: 'P0', status: 'queued' });
  await job({ provider: 'instagram', priority: 'P3', status: 'queued', scheduleIn: 3600 });
  // Running: veo3 waited 59 s and runs for 41 s; another has run 700 s > 2x300 s: stuck. Both hold slots.
  await job({ provider: 'veo3', priority: 'P1', status: 'processing', createdAgo: 100, startedAgo: 41, attempts: 1, slot: true });
  await job({ provider: 'veo3', priority: 'P2', status: 'processing', createdAgo: 710, startedAgo: 700, attempts: 1, slot: true });
  // Done today: openai 2x (wait 2 s, run 5 s, 0.5 each), veo3 (wait 30 s, run 200 s, 60, 2 attempts).
  await job({ provider: 'openai', status: 'completed', createdAgo: 7, startedAgo: 5, completedAgo: 0, attempts: 1, cost: 0.5 });
  await job({ provider: 'openai', status: 'completed', createdAgo: 7, startedAgo: 5, completedAgo: 0, attempts: 1, cost: 0.5 });
  await job({ provider: 'veo3', status: 'completed', createdAgo: 230, startedAgo: 200, completedAgo: 0, attempts: 2, cost: 60 });
  // Two days ago: counts in all-time totals, not in today's cost nor the 24 h histograms.
  await job({
    provider: 'veo3',
    status: 'completed',
    createdAgo: 172_900,
    startedAgo: 172_850,
    completedAgo: 172_800,
    attempts: 1,
    cost: 60,
  });
  failedJob = await job({
    provider: 'tiktok',
    status: 'failed',
    createdAgo: 30,
    startedAgo: 20,
    completedAgo: 10,
    attempts: 3,
    error: 'tiktok: spam_risk_too_many_posts',
  });
  await q(`SELECT log_job_event($1, 'retrying', '{"error":"tiktok: HTTP 500","attempt":1}')`, [failedJob]);
  await q(`SELECT log_job_event($1, 'retrying', '{"error":"tiktok: HTTP 503","attempt":2}')`, [failedJob]);
  await q(`SELECT log_job_event($1, 'failed', '{"error":"tiktok: spam_risk_too_many_posts","attempt":3}')`, [failedJob]);
  await job({ provider: 'youtube', status: 'cancelled', attempts: 0 });

  // Temporal's poller view, as src/temporal/queue-workers.ts reports it (tested against the server in workers.test.ts).
  const workers = (queue: QueueName, n: number): QueueWorkers => ({
    queue,
    taskQueue: `tq-${queue}`,
    workers: n,
    identities: [],
    lastSeenAt: null,
  });
  api = await startTestApi(t, { service: dbOnlyService(t), workers: async () => [workers('base', 2), workers('veo3', 0)] });
});
afterAll(async () => {
  await api?.app.close();
  await t?.drop();
});

describe('/metrics', () => {
  it('needs a token', async () => {
    const res = await api.call(null, { method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(401);
  });

  it('reports the known queue state', async () => {
    const res = await api.call('read', { method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const m = (name: string, labels: Record<string, string> = {}) => sample(res.body, name, labels);

    // Queue depth by provider and priority; absent combinations are explicit zeros.
    expect(m('reelflow_queue_depth', { provider: 'veo3', priority: 'P0' })).toBe(2);
    expect(m('reelflow_queue_depth', { provider: 'veo3', priority: 'P1' })).toBe(1);
    expect(m('reelflow_queue_depth', { provider: 'openai', priority: 'P0' })).toBe(1);
    expect(m('reelflow_queue_depth', { provider: 'instagram', priority: 'P3' })).toBe(1);
    expect(m('reelflow_queue_depth', { provider: 'tiktok', priority: 'P0' })).toBe(0);

    // In flight against the cap; the openai and the scheduled instagram jobs are queued but not asking yet.
    expect(m('reelflow_provider_in_flight', { provider: 'veo3' })).toBe(2);
    expect(m('reelflow_provider_max_concurrent', { provider: 'veo3' })).toBe(PROVIDER_LIMITS.veo3.maxConcurrent);
    expect(m('reelflow_provider_waiting', { provider: 'veo3' })).toBe(3);
    expect(m('reelflow_provider_waiting', { provider: 'instagram' })).toBe(0);
    expect(m('reelflow_provider_planned', { provider: 'instagram' })).toBe(1);
    expect(m('reelflow_provider_planned', { provider: 'openai' })).toBe(1);
    expect(m('reelflow_provider_planned', { provider: 'veo3' })).toBe(0);
    expect(m('reelflow_provider_min_start_interval_seconds', { provider: 'veo3' })).toBe(PROVIDER_LIMITS.veo3.minStartIntervalMs / 1000);
    expect(m('reelflow_jobs_stuck', { provider: 'veo3' })).toBe(1);
    expect(m('reelflow_jobs_stuck', { provider: 'openai' })).toBe(0);

    // Wait histogram (24 h): veo3 waited 59, 10 and 30 s; the two-day-old job is outside.
    expect(m('reelflow_job_wait_seconds_count', { provider: 'veo3' })).toBe(3);
    expect(m('reelflow_job_wait_seconds_sum', { provider: 'veo3' })).toBeCloseTo(99, 3);
    expect(m('reelflow_job_wait_seconds_bucket', { provider: 'veo3', le: '5' })).toBe(0);
    expect(m('reelflow_job_wait_seconds_bucket', { provider: 'veo3', le: '15' })).toBe(1);
    expect(m('reelflow_job_wait_seconds_bucket', { provider: 'veo3', le: '30' })).toBe(2);
    expect(m('reelflow_job_wait_seconds_bucket', { provider: 'veo3', le: '60' })).toBe(3);
    // Run histogram: completed only.
    expect(m('reelflow_job_run_seconds_count', { provider: 'veo3' })).toBe(1);
    expect(m('reelflow_job_run_seconds_sum', { provider: 'veo3' })).toBeCloseTo(200, 3);
    expect(m('reelflow_job_run_seconds_count', { provider: 'openai' })).toBe(2);
    expect(m('reelflow_job_run_seconds_bucket', { provider: 'openai', le: '5' })).toBe(2);
    expect(m('reelflow_job_run_seconds_count', { provider: 'youtube' })).toBe(0);

    // Attempts, failures, retries, cost.
    expect(m('reelflow_job_attempts_total', { provider: 'veo3' })).toBe(1 + 1 + 2 + 1);
    expect(m('reelflow_job_failures_total', { provider: 'tiktok' })).toBe(1);
    expect(m('reelflow_job_retries_total', { provider: 'tiktok' })).toBe(2);
    expect(m('reelflow_job_failures_total', { provider: 'veo3' })).toBe(0);
    expect(m('reelflow_cost_total', { provider: 'veo3' })).toBe(120);
    expect(m('reelflow_cost_today', { provider: 'veo3' })).toBe(60);
    expect(m('reelflow_cost_today', { provider: 'openai' })).toBe(1);

    expect(m('reelflow_jobs', { provider: 'veo3', status: 'completed' })).toBe(2);
    expect(m('reelflow_jobs', { provider: 'youtube', status: 'cancelled' })).toBe(1);
    expect(m('reelflow_recommendations', { status: 'pending' })).toBe(1);
    expect(m('reelflow_queue_workers', { queue: 'base' })).toBe(2);
    expect(m('reelflow_queue_workers', { queue: 'veo3' })).toBe(0);
    // Process metrics of the API itself.
    expect(res.body).toContain('reelflow_api_process_cpu_seconds_total');
  });

  it('exports every reelflow_* series the Grafana dashboard queries', async () => {
    const text = (await api.call('read', { method: 'GET', url: '/metrics' })).body;
    const dashboard = fs.readFileSync(path.resolve(__dirname, '../../grafana/reelflow-dashboard.json'), 'utf8');
    const queried = new Set(dashboard.match(/reelflow_[a-z_]+/g));
    expect(queried.size).toBeGreaterThan(10);
    for (const name of queried) expect(text, `${name} is queried by Grafana but not exported`).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
  });

  it('gives every concurrent scrape the same complete answer', async () => {
    const texts = await Promise.all([1, 2, 3].map(() => api.call('read', { method: 'GET', url: '/metrics' })));
    for (const r of texts) expect(sample(r.body, 'reelflow_queue_depth', { provider: 'veo3', priority: 'P0' })).toBe(2);
    // And a second scrape does not double-count the histograms.
    expect(sample(texts[2]!.body, 'reelflow_job_wait_seconds_count', { provider: 'veo3' })).toBe(3);
  });
});

describe('/api/dashboard', () => {
  it('gives the live queue, panels, stuck alerts, calendar and failures', async () => {
    const res = await api.call('read', { method: 'GET', url: '/api/dashboard' });
    expect(res.statusCode).toBe(200);
    const s = res.json().data;
    expect(s.jobs).toHaveLength(7);
    // Running first, then the line in priority order with positions per provider.
    expect(s.jobs.slice(0, 2).every((j: { status: string }) => j.status === 'processing')).toBe(true);
    const veo3Line = s.jobs.filter((j: { provider: string; status: string }) => j.provider === 'veo3' && j.status === 'queued');
    expect(veo3Line.map((j: { priority: string; position: number }) => [j.priority, j.position])).toEqual([
      ['P0', 1],
      ['P0', 2],
      ['P1', 3],
    ]);
    expect(s.jobs[0].title).toBe('Chollo de la jornada');
    // Every job in a line before those not asking yet: the planned openai step (though P0), the scheduled instagram one.
    expect(s.jobs.map((j: { inLine: boolean; status: string }) => (j.status === 'processing' ? 'running' : j.inLine))).toEqual([
      'running',
      'running',
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(s.jobs.slice(5).map((j: { provider: string; position: number | null }) => [j.provider, j.position])).toEqual([
      ['openai', null],
      ['instagram', null],
    ]);
    expect(s.stuck).toHaveLength(1);
    expect(s.stuck[0]).toMatchObject({ provider: 'veo3', isStuck: true });

    const veo3 = s.providers.find((p: { provider: string }) => p.provider === 'veo3');
    expect(veo3).toMatchObject({
      inUse: 2,
      maxConcurrent: 2,
      waiting: 3,
      planned: 0,
      queued: 3,
      processing: 2,
      completed24h: 1,
      failed24h: 0,
      costToday: 60,
      stuck: 1,
    });
    expect(veo3.successRate24h).toBe(1);
    expect(veo3.avgRunSeconds24h).toBeCloseTo(200, 3);
    const tiktok = s.providers.find((p: { provider: string }) => p.provider === 'tiktok');
    expect(tiktok.successRate24h).toBe(0);

    expect(s.failures.map((f: { event: string; error: string }) => [f.event, f.error])).toEqual([
      ['failed', 'tiktok: spam_risk_too_many_posts'],
      ['retrying', 'tiktok: HTTP 503'],
      ['retrying', 'tiktok: HTTP 500'],
    ]);
    // Every open job that runs or has a place in a line is in the next 24 h (the instagram one is scheduled in 1 h);
    // the planned openai job is in no line yet (a later step: nothing says when it starts) and has no deadline.
    expect(s.calendar.map((c: { provider: string }) => c.provider).sort()).toEqual(['instagram', 'veo3', 'veo3', 'veo3', 'veo3', 'veo3']);
    // Each is drawn as a bar (running, or waiting with an ETA): none is there for its deadline only.
    expect(s.calendar.filter((c: { hasBar: boolean }) => !c.hasBar)).toEqual([]);
  });

  it('shows one job with its history', async () => {
    const res = await api.call('read', { method: 'GET', url: `/api/jobs/${failedJob}` });
    expect(res.statusCode).toBe(200);
    const d = res.json().data;
    expect(d.job).toMatchObject({ id: failedJob, status: 'failed', apiProvider: 'tiktok' });
    expect(d.recommendation.id).toBe(recId);
    expect(d.history.map((e: { event: string }) => e.event)).toEqual(['retrying', 'retrying', 'failed']);
    expect(d.links.temporal).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${d.job.workflowId}`);
  });

  it('filters the job list and names a wrong filter', async () => {
    const ok = await api.call('read', { method: 'GET', url: '/api/jobs?status=queued,processing&provider=veo3' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data).toHaveLength(5);
    const p0 = await api.call('read', { method: 'GET', url: '/api/jobs?priority=P0' });
    expect(p0.json().data).toHaveLength(3);
    const bad = await api.call('read', { method: 'GET', url: '/api/jobs?status=running' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ ok: false, error: { message: expect.stringMatching(/status\.0 must be one of queued, processing/) } });
    const badDate = await api.call('read', { method: 'GET', url: '/api/jobs?since=yesterday' });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().error.message).toMatch(/since must be an ISO-8601 date-time/);
    const since = await api.call('read', {
      method: 'GET',
      url: `/api/jobs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    });
    expect(since.json().data).toHaveLength(0);
  });

  it('lists open jobs and recommendations first, then the finished ones newest first', async () => {
    const open = (status: string) => ['queued', 'processing', 'pending', 'in_production'].includes(status);
    const jobs = (await api.call('read', { method: 'GET', url: '/api/jobs' })).json().data as Array<{
      id: string;
      status: string;
      priority: string;
      createdAt: string;
      waitingSince: string | null;
    }>;
    // The seven open jobs as the dashboard's queue lists them: running, in a line, not asking yet (a finished P2 of two
    // days ago came before the open P2s), then the rest.
    expect(jobs.slice(0, 7).every((j) => open(j.status))).toBe(true);
    expect(jobs.slice(0, 7).map((j) => [j.status === 'processing' ? 'running' : j.waitingSince !== null, j.priority])).toEqual([
      ['running', 'P1'],
      ['running', 'P2'],
      [true, 'P0'],
      [true, 'P0'],
      [true, 'P1'],
      [false, 'P0'],
      [false, 'P3'],
    ]);
    const queue = (await api.call('read', { method: 'GET', url: '/api/dashboard' })).json().data.jobs as Array<{ id: string }>;
    expect(jobs.slice(0, 7).map((j) => j.id)).toEqual(queue.map((j) => j.id));
    const finished = jobs.slice(7);
    expect(finished.length).toBeGreaterThan(3);
    expect(finished.every((j) => !open(j.status))).toBe(true);
    const times = finished.map((j) => Date.parse(j.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // With a limit, what is going on, not the oldest history.
    const two = (await api.call('read', { method: 'GET', url: '/api/jobs?limit=7' })).json().data as Array<{ status: string }>;
    expect(two.every((j) => open(j.status))).toBe(true);

    const { rows } = await q(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status, created_at)
       VALUES ('P0', 'breaking_news', 'Publicado hace un mes', 'published', now() - interval '30 days'),
              ('P3', 'bargain', 'Publicado ayer', 'published', now() - interval '1 day'),
              ('P3', 'bargain', 'Pendiente', 'pending', now()) RETURNING id`,
    );
    try {
      const recs = (await api.call('read', { method: 'GET', url: '/api/recommendations' })).json().data as Array<{ title: string }>;
      expect(recs.map((r) => r.title)).toEqual(['Chollo de la jornada', 'Pendiente', 'Publicado ayer', 'Publicado hace un mes']);
    } finally {
      await q(`DELETE FROM competitive_recommendations WHERE id = ANY($1)`, [rows.map((r: { id: string }) => r.id)]);
    }
  });

  it('reads capacity and stats', async () => {
    const cap = await api.call('read', { method: 'GET', url: '/api/capacity?provider=veo3' });
    expect(cap.json().data).toEqual([expect.objectContaining({ provider: 'veo3', inUse: 2, free: 0, waiting: 3 })]);
    const stats = await api.call('read', { method: 'GET', url: '/api/stats' });
    expect(stats.statusCode).toBe(200);
    expect(stats.json().data.performanceByType[0]).toMatchObject({ job_type: 'test_job' });
  });
});

describe('with the Temporal server not answering', () => {
  it('still serves the database figures: no worker series in /metrics, an unknown-workers marker in the dashboard', async () => {
    const down = await startTestApi(t, {
      service: dbOnlyService(t),
      workers: async () => {
        throw new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7233');
      },
    });
    try {
      const metrics = await down.call('read', { method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(sample(metrics.body, 'reelflow_queue_depth', { provider: 'veo3', priority: 'P0' })).toBe(2);
      expect(metrics.body).not.toMatch(/^reelflow_queue_workers\{/m);
      const dashboard = await down.call('read', { method: 'GET', url: '/api/dashboard' });
      expect(dashboard.statusCode).toBe(200);
      expect(dashboard.json().data.workers).toBeNull();
      expect((await down.call('read', { method: 'GET', url: '/api/workers' })).statusCode).toBe(500);
    } finally {
      await down.app.close();
    }
  });
});

describe('quotas, budgets and ETAs on every read (their own database)', () => {
  let tq: TestDatabase;
  let qapi: TestApi;
  const jobs: Record<'instagram' | 'tiktok' | 'veo3' | 'youtube', string> = { instagram: '', tiktok: '', veo3: '', youtube: '' };
  const sql = (text: string, params: unknown[] = []) => tq.database.pool.query(text, params);
  let n = 0;
  async function waitingJob(jobType: string, provider: string, priority: string): Promise<string> {
    const { rows } = await sql(`SELECT id FROM enqueue_job($1, 'step', $2, $3, $4, '{}'::jsonb, NULL, NULL, NULL, 30, 3)`, [
      `wf-quota-${++n}`,
      jobType,
      provider,
      priority,
    ]);
    // In its provider's line (its activity asks for a slot); nothing grants here, the ETA says when the gate would.
    await sql(`SELECT wait_for_slot($1, 1)`, [rows[0].id]);
    return rows[0].id as string;
  }

  beforeAll(async () => {
    tq = await createTestDatabase();
    // Instagram's rolling 24 h at its limit: units come back when the oldest (1 h ago) leaves the window, in 23 h.
    await sql(`UPDATE provider_quotas SET quota_limit = 2 WHERE name = 'instagram_posts'`);
    await sql(`INSERT INTO quota_usage (quota, units, used_at) VALUES ('instagram_posts', 1, now() - interval '1 hour'),
                                                                     ('instagram_posts', 1, now() - interval '30 minutes')`);
    // TikTok refused with its own quota error: parked for 2 h.
    await sql(`UPDATE provider_quotas SET parked_until = now() + interval '2 hours', parked_reason = 'spam_risk_too_many_posts'
                WHERE name = 'tiktok_posts'`);
    // The day's VEO3 budget at its low-priority share (80 % of 6,000): a P2 render waits for the reset, a P0 would not.
    await sql(`INSERT INTO quota_usage (quota, units) VALUES ('veo3_credits_day', 4800)`);
    // A YouTube upload costs 1,600 units: a limit under that can never fit.
    await sql(`UPDATE provider_quotas SET quota_limit = 1000 WHERE name = 'youtube_api_units'`);
    await sql(`SELECT report_quota('api_football_requests', 40, 100)`);
    jobs.instagram = await waitingJob('instagram_reel', 'instagram', 'P1');
    jobs.tiktok = await waitingJob('tiktok_video', 'tiktok', 'P1');
    jobs.veo3 = await waitingJob('veo3_chollo', 'veo3', 'P2');
    jobs.youtube = await waitingJob('youtube_short', 'youtube', 'P1');
    qapi = await startTestApi(tq, { service: dbOnlyService(tq) });
  });
  afterAll(async () => {
    await qapi?.app.close();
    await tq?.drop();
  });

  type Quota = { name: string; used: number; limit: number; remaining: number; resetAt: string | null; parkedUntil: string | null };
  const capacityOf = async (provider: string) => {
    const res = await qapi.call('read', { method: 'GET', url: `/api/capacity?provider=${provider}` });
    expect(res.statusCode).toBe(200);
    return res.json().data[0] as { provider: string; quotas: Quota[] };
  };
  const quotaOf = async (provider: string, name: string) => (await capacityOf(provider)).quotas.find((q) => q.name === name)!;

  it('/api/capacity gives each provider its quotas: used of limit (numbers), reset, parked, what the provider reported', async () => {
    const ig = await quotaOf('instagram', 'instagram_posts');
    expect(ig).toMatchObject({
      used: 2,
      limit: 2,
      remaining: 0,
      unit: 'posts',
      account: 'default',
      windowKind: 'moving',
      parkedUntil: null,
    });
    expect(Date.parse(ig.resetAt!) - Date.now()).toBeGreaterThan(22.9 * 3_600_000);
    expect(Date.parse(ig.resetAt!) - Date.now()).toBeLessThan(23.1 * 3_600_000);
    const tt = await quotaOf('tiktok', 'tiktok_posts');
    expect(tt).toMatchObject({ parkedReason: 'spam_risk_too_many_posts', used: 0, limit: 15 });
    expect(Date.parse(tt.parkedUntil!) - Date.now()).toBeGreaterThan(1.9 * 3_600_000);
    const veo3 = await capacityOf('veo3');
    expect(veo3.quotas.map((q) => q.name).sort()).toEqual(['veo3_credits_day', 'veo3_credits_month']);
    expect(veo3.quotas.find((q) => q.name === 'veo3_credits_day')).toMatchObject({ used: 4800, limit: 6000, unit: 'credits' });
    expect(await quotaOf('api_football', 'api_football_requests')).toMatchObject({ used: 60, reportedRemaining: 40, reportedLimit: 100 });
  });

  it('/api/jobs and /api/jobs/:id give each waiting job its ETA and what it waits for', async () => {
    const res = await qapi.call('read', { method: 'GET', url: '/api/jobs?status=queued' });
    expect(res.statusCode).toBe(200);
    const byId = new Map((res.json().data as Array<{ id: string }>).map((j) => [j.id, j]));
    const ig = await quotaOf('instagram', 'instagram_posts');
    // At its limit: the job starts when the quota's oldest unit leaves the window, which is the quota's reset.
    expect(byId.get(jobs.instagram)).toMatchObject({ eta: ig.resetAt, waitingFor: 'quota', waitingForQuota: 'instagram_posts' });
    const tt = await quotaOf('tiktok', 'tiktok_posts');
    expect(byId.get(jobs.tiktok)).toMatchObject({ eta: tt.parkedUntil, waitingFor: 'parked', waitingForQuota: 'tiktok_posts' });
    const budget = await quotaOf('veo3', 'veo3_credits_day');
    expect(byId.get(jobs.veo3)).toMatchObject({ eta: budget.resetAt, waitingFor: 'budget', waitingForQuota: 'veo3_credits_day' });
    // Never as configured: no ETA, but it still says which quota is in the way.
    expect(byId.get(jobs.youtube)).toMatchObject({ eta: null, waitingFor: 'quota', waitingForQuota: 'youtube_api_units' });

    const one = await qapi.call('read', { method: 'GET', url: `/api/jobs/${jobs.instagram}` });
    expect(one.json().data.job).toMatchObject({ id: jobs.instagram, eta: ig.resetAt, waitingFor: 'quota' });
  });

  it('/api/dashboard: the queue with ETAs, the calendar at the ETA, provider cards with quotas and their next start', async () => {
    const s = (await qapi.call('read', { method: 'GET', url: '/api/dashboard' })).json().data;
    const ig = await quotaOf('instagram', 'instagram_posts');
    const row = s.jobs.find((j: { id: string }) => j.id === jobs.instagram);
    expect(row).toMatchObject({ eta: ig.resetAt, waitingFor: 'quota', waitingForQuota: 'instagram_posts' });
    // Placed where it will run, 23 h from now, not at now; its length is its estimate.
    const planned = s.calendar.find((c: { id: string }) => c.id === jobs.instagram);
    expect(planned).toMatchObject({ plannedAt: ig.resetAt, waitingFor: 'quota', hasBar: true });
    expect(Date.parse(planned.estimatedEndAt) - Date.parse(planned.plannedAt)).toBe(30_000);
    // One that can never start (its cost is over the whole limit) and has no deadline today is not drawn at all.
    expect(s.calendar.find((c: { id: string }) => c.id === jobs.youtube)).toBeUndefined();
    expect(s.jobs.find((j: { id: string }) => j.id === jobs.youtube)).toMatchObject({ eta: null, waitingFor: 'quota' });
    const panel = s.providers.find((p: { provider: string }) => p.provider === 'instagram');
    expect(panel.quotas).toEqual([expect.objectContaining({ name: 'instagram_posts', used: 2, limit: 2 })]);
    expect(panel.nextStart).toMatchObject({ jobId: jobs.instagram, eta: ig.resetAt, waitingFor: 'quota', quota: 'instagram_posts' });
    const tiktok = s.providers.find((p: { provider: string }) => p.provider === 'tiktok');
    expect(tiktok.quotas[0]).toMatchObject({ name: 'tiktok_posts', parkedReason: 'spam_risk_too_many_posts' });
    // The stats read carries the same panels.
    const stats = (await qapi.call('read', { method: 'GET', url: '/api/stats' })).json().data;
    expect(stats.providers.find((p: { provider: string }) => p.provider === 'instagram').quotas[0].name).toBe('instagram_posts');
  });

  it('/metrics: use, limit, reset and parking per quota, and the next start per provider', async () => {
    const text = (await qapi.call('read', { method: 'GET', url: '/metrics' })).body;
    const m = (name: string, labels: Record<string, string>) => sample(text, name, labels);
    const ig = { quota: 'instagram_posts', provider: 'instagram', account: 'default', unit: 'posts' };
    const igRow = await quotaOf('instagram', 'instagram_posts');
    expect(m('reelflow_quota_used', ig)).toBe(2);
    expect(m('reelflow_quota_limit', ig)).toBe(2);
    expect(m('reelflow_quota_reset_timestamp_seconds', ig)).toBe(Date.parse(igRow.resetAt!) / 1000);
    expect(m('reelflow_quota_parked', ig)).toBe(0);
    const tt = { quota: 'tiktok_posts', provider: 'tiktok', account: 'default', unit: 'posts' };
    expect(m('reelflow_quota_parked', tt)).toBe(1);
    const budget = { quota: 'veo3_credits_day', provider: 'veo3', account: 'default', unit: 'credits' };
    expect(m('reelflow_quota_used', budget)).toBe(4800);
    expect(m('reelflow_quota_limit', budget)).toBe(6000);
    expect(m('reelflow_provider_next_start_timestamp_seconds', { provider: 'instagram' })).toBe(Date.parse(igRow.resetAt!) / 1000);
    // Nothing waits on OpenAI: no next-start series rather than a made-up time.
    expect(m('reelflow_provider_next_start_timestamp_seconds', { provider: 'openai' })).toBeUndefined();
  });
});
