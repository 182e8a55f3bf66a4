/**
 * Quotas and spend budgets in the gate's SQL (drizzle/0009) and the ETA
 * estimator, against real PostgreSQL. Windows are compressed to seconds. The
 * end-to-end path (workers, simulators, a provider's own quota error) is in
 * quotas-e2e.test.ts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveLimits, effectiveQuotas, loadEnv } from '../../src/config/env';
import { estimateStarts, planLines } from '../../src/gate/eta';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { noonZone } from '../helpers/zones';

let t: TestDatabase;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await t.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  t = await createTestDatabase(
    effectiveLimits({
      REELFLOW_LIMITS: {
        instagram: { maxConcurrent: 5, minStartIntervalMs: 0 },
        veo3: { maxConcurrent: 10, minStartIntervalMs: 0 },
        tiktok: { maxConcurrent: 5, minStartIntervalMs: 0 },
        youtube: { maxConcurrent: 5, minStartIntervalMs: 0 },
      },
    }),
  );
});
afterAll(async () => t?.drop());

let seq = 0;
const JOB_TYPE = { instagram: 'instagram_reel', veo3: 'veo3_chollo', tiktok: 'tiktok_video', youtube: 'youtube_short' } as const;
async function enqueue(
  provider: keyof typeof JOB_TYPE,
  priority: string,
  config: Record<string, unknown> = {},
  estimate = 30,
  deadline: Date | null = null,
) {
  const [job] = await q<{ id: string }>(`SELECT * FROM enqueue_job($1, 'step', $2, $3, $4, $5::jsonb, NULL, NULL, $7, $6, 3)`, [
    `wf-${++seq}`,
    JOB_TYPE[provider],
    provider,
    priority,
    JSON.stringify(config),
    estimate,
    deadline,
  ]);
  await q(`SELECT * FROM wait_for_slot($1, 1)`, [job!.id]);
  return job!.id;
}
const grant = async (provider: string) => (await q<{ r: { granted: string[] } }>(`SELECT grant_slots($1) AS r`, [provider]))[0]!.r.granted;
const statusOf = async (id: string) => (await q<{ status: string }>(`SELECT status FROM automation_queue WHERE id = $1`, [id]))[0]!.status;
const complete = (id: string, cost: number | null = null) => q(`SELECT complete_job($1, '{}'::jsonb, $2)`, [id, cost]);
/** The job reached its provider (what claim_start records), so its units stay spent. */
const called = (id: string) => q(`SELECT log_job_event($1, 'provider_call')`, [id]);
const quota = async (name: string) =>
  (
    await q<{ used: string; quota_limit: string; parked_until: Date | null; reset_at: Date | null }>(
      `SELECT * FROM quota_status WHERE name = $1`,
      [name],
    )
  )[0]!;
const clearAll = () =>
  q(`UPDATE automation_queue SET status = 'cancelled', waiting_since = NULL WHERE status IN ('queued','processing');
     DELETE FROM provider_slots; DELETE FROM quota_usage; UPDATE provider_quotas SET parked_until = NULL, reported_at = NULL`);
const setQuota = (name: string, set: string) => q(`UPDATE provider_quotas SET ${set} WHERE name = $1`, [name]);

describe('a quota in the gate', () => {
  it('stops granting when the next job does not fit, keeps priority order, and fails nothing', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 3, window_kind = 'moving', window_seconds = 3600`);
    const p3a = await enqueue('instagram', 'P3');
    const p3b = await enqueue('instagram', 'P3');
    const p0 = await enqueue('instagram', 'P0');
    const p1 = await enqueue('instagram', 'P1');
    // Five free slots, three units: the three at the head of the line, by priority.
    expect(await grant('instagram')).toEqual([p0, p1, p3a]);
    for (const id of [p0, p1, p3a]) {
      await called(id);
      await complete(id);
    }
    // Slots are free again but the quota is not: the last P3 waits in line, still queued.
    expect(await grant('instagram')).toEqual([]);
    expect(await statusOf(p3b)).toBe('queued');
    expect(Number((await quota('instagram_posts')).used)).toBe(3);
    // A P0 that arrives now is ahead of it when a unit comes back.
    const late = await enqueue('instagram', 'P0');
    await setQuota('instagram_posts', 'quota_limit = 4');
    expect(await grant('instagram')).toEqual([late]);
    const failed = await q(`SELECT id FROM automation_queue WHERE status = 'failed'`);
    expect(failed).toHaveLength(0);
  });

  it('gives back the units of a job that never reached its provider', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 1`);
    const a = await enqueue('instagram', 'P2');
    const b = await enqueue('instagram', 'P2');
    expect(await grant('instagram')).toEqual([a]);
    // Cancelled (or its deadline passed) before its first call: the unit goes to the next job.
    await q(`SELECT leave_line($1)`, [a]);
    expect(await statusOf(b)).toBe('processing');
    expect(await q(`SELECT * FROM quota_usage WHERE job_id = $1`, [a])).toHaveLength(0);
  });

  it('a moving window frees units as the oldest leave it', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 1, window_kind = 'moving', window_seconds = 2`);
    const a = await enqueue('instagram', 'P2');
    const b = await enqueue('instagram', 'P2');
    expect(await grant('instagram')).toEqual([a]);
    await called(a);
    await complete(a);
    expect(await grant('instagram')).toEqual([]);
    const { reset_at } = await quota('instagram_posts');
    expect(reset_at!.getTime() - Date.now()).toBeGreaterThan(1_000);
    await new Promise((r) => setTimeout(r, reset_at!.getTime() - Date.now() + 50));
    expect(await grant('instagram')).toEqual([b]);
  });

  it('a calendar window resets at its boundary in its time zone', async () => {
    await clearAll();
    await setQuota('tiktok_posts', `quota_limit = 1, window_kind = 'calendar', window_seconds = 3, time_zone = 'Asia/Kolkata'`);
    const { reset_at: first } = await quota('tiktok_posts');
    // Slices of 3 s counted from midnight in Kolkata (UTC+5:30): boundaries on multiples of 3 s.
    expect(first!.getTime() % 3_000).toBe(0);
    // Start right after a boundary so the whole test fits in one slice.
    await new Promise((r) => setTimeout(r, first!.getTime() - Date.now() + 20));
    const a = await enqueue('tiktok', 'P1');
    const b = await enqueue('tiktok', 'P1');
    expect(await grant('tiktok')).toEqual([a]);
    await called(a);
    expect(await grant('tiktok')).toEqual([]);
    const { reset_at } = await quota('tiktok_posts');
    await new Promise((r) => setTimeout(r, reset_at!.getTime() - Date.now() + 20));
    expect(await grant('tiktok')).toEqual([b]);
    expect(Number((await quota('tiktok_posts')).used)).toBe(1);
  });

  it('lowering a quota below what was used parks the line until reset and leaves running jobs alone', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 5, window_kind = 'moving', window_seconds = 3600`);
    const running = await enqueue('instagram', 'P1');
    expect(await grant('instagram')).toEqual([running]);
    await called(running);
    const next = await enqueue('instagram', 'P0');
    await setQuota('instagram_posts', 'quota_limit = 0');
    expect(await grant('instagram')).toEqual([]);
    expect(await statusOf(running)).toBe('processing');
    await complete(running);
    expect(await statusOf(running)).toBe('completed');
    expect(await statusOf(next)).toBe('queued');
  });
});

describe('a quota charged per call', () => {
  const retry = async (id: string) => {
    await q(`SELECT fail_job($1, 'upload session expired', false)`, [id]);
    await q(`SELECT * FROM wait_for_slot($1, 1)`, [id]);
  };
  const used = async () => Number((await quota('youtube_api_units')).used);

  it('takes a retried upload again when it opens a new session, not when it resumes its video or never called', async () => {
    await clearAll();
    await setQuota('youtube_api_units', `quota_limit = 5000, window_kind = 'calendar', window_seconds = 86400`);
    const a = await enqueue('youtube', 'P1');
    expect(await grant('youtube')).toEqual([a]);
    expect(await used()).toBe(1650);
    // Its session expired mid-transfer: the retry opens a new one, a second videos.insert.
    await called(a);
    await retry(a);
    expect(await grant('youtube')).toEqual([a]);
    expect(await used()).toBe(3300);
    // Put back before it called (its slot went to no call): granted again, it takes nothing more.
    await retry(a);
    expect(await grant('youtube')).toEqual([a]);
    expect(await used()).toBe(3300);
    // Its second session expires too: a third fits (4,950 of 5,000), a fourth does not.
    await called(a);
    await retry(a);
    expect(await grant('youtube')).toEqual([a]);
    expect(await used()).toBe(4950);
    await called(a);
    await retry(a);
    expect(await grant('youtube')).toEqual([]);
    expect(await statusOf(a)).toBe('queued');
    expect((await q(`SELECT take FROM quota_usage WHERE job_id = $1 ORDER BY take`, [a])).map((r) => r.take)).toEqual([1, 2, 3]);

    // An upload whose video is recorded resumes it (status, publish): no new insert, nothing taken.
    await clearAll();
    const b = await enqueue('youtube', 'P1');
    expect(await grant('youtube')).toEqual([b]);
    await called(b);
    await q(`SELECT record_provider_task($1, 'video-1', NULL)`, [b]);
    await retry(b);
    expect(await grant('youtube')).toEqual([b]);
    expect(await used()).toBe(1650);
  });

  it('takes the credits of a render again when its KIE task failed and the job renders anew, not after a refused submit', async () => {
    await clearAll();
    await setQuota('veo3_credits_day', `quota_limit = 6000, low_priority_share = 1`);
    const credits = async () => Number((await quota('veo3_credits_day')).used);
    const a = await enqueue('veo3', 'P1');
    expect(await grant('veo3')).toEqual([a]);
    // The submit answered 500: nothing made, nothing charged; the retry submits once more on the same take.
    await called(a);
    await retry(a);
    expect(await grant('veo3')).toEqual([a]);
    expect(await credits()).toBe(60);
    // This time KIE made the task (charged), and the render failed on KIE's side: the task is given up.
    await called(a);
    await q(`SELECT record_provider_task($1, 'task-1', 60)`, [a]);
    await q(`SELECT discard_provider_task($1)`, [a]);
    await retry(a);
    expect(await grant('veo3')).toEqual([a]);
    expect(await credits()).toBe(120);
    // The new render costs another price (the deployment moved to veo3 meanwhile): it counts at that, the first stays.
    await called(a);
    await q(`SELECT record_provider_task($1, 'task-2', 250)`, [a]);
    expect(await credits()).toBe(310);
  });

  it("gives back only the refused call's take when Google says the quota is spent", async () => {
    await clearAll();
    await setQuota('youtube_api_units', `quota_limit = 10000, window_kind = 'calendar', window_seconds = 86400`);
    const a = await enqueue('youtube', 'P1');
    expect(await grant('youtube')).toEqual([a]);
    await called(a);
    await retry(a);
    expect(await grant('youtube')).toEqual([a]);
    await called(a);
    // The new session's videos.insert: 403 quotaExceeded. The first session's units were spent all the same.
    await q(`SELECT * FROM park_quota_for_job($1, now() + interval '1 hour', 'youtube: quotaExceeded')`, [a]);
    expect(await used()).toBe(1650);
    // The same for one cancelled after its new take, before its call.
    await q(`UPDATE provider_quotas SET parked_until = NULL WHERE name = 'youtube_api_units'`);
    await retry(a);
    expect(await grant('youtube')).toEqual([a]);
    expect(await used()).toBe(3300);
    await q(`SELECT leave_line($1)`, [a]);
    expect(await used()).toBe(1650);

    // A status read refused while the upload processes: the upload's units were charged, they stay.
    await clearAll();
    const b = await enqueue('youtube', 'P1');
    expect(await grant('youtube')).toEqual([b]);
    await called(b);
    await q(`SELECT record_provider_task($1, 'video-1', NULL)`, [b]);
    await q(`SELECT * FROM park_quota_for_job($1, now() + interval '1 hour', 'youtube: quotaExceeded')`, [b]);
    expect(await used()).toBe(1650);
  });
});

describe('a spend budget', () => {
  it('keeps its reserve for P0/P1: a P0 goes through while P3 waits, and nothing exceeds it', async () => {
    await clearAll();
    // 240 credits a day, P2/P3 up to half of it; a render costs 60.
    await setQuota('veo3_credits_day', `quota_limit = 240, low_priority_share = 0.5`);
    const p3 = [await enqueue('veo3', 'P3'), await enqueue('veo3', 'P3'), await enqueue('veo3', 'P3')];
    expect(await grant('veo3')).toEqual([p3[0], p3[1]]);
    expect(await statusOf(p3[2]!)).toBe('queued');
    const p0 = [await enqueue('veo3', 'P0'), await enqueue('veo3', 'P0'), await enqueue('veo3', 'P0')];
    expect(await grant('veo3')).toEqual([p0[0], p0[1]]);
    const used = await quota('veo3_credits_day');
    expect(Number(used.used)).toBe(240);
    expect(await statusOf(p0[2]!)).toBe('queued');
  });

  it("grants a render asking for the other model at that model's price, not the deployment's", async () => {
    await clearAll();
    await setQuota('veo3_credits_day', `quota_limit = 300, low_priority_share = 1`);
    const fast = await enqueue('veo3', 'P1');
    expect(await grant('veo3')).toEqual([fast]);
    // A quality render (its price written at enqueue) does not fit beside it: 60 + 250 > 300.
    const quality = await enqueue('veo3', 'P1', { model: 'veo3', credits: 250 });
    expect(await grant('veo3')).toEqual([]);
    expect(await statusOf(quality)).toBe('queued');
    // The first one is cancelled before its call: its credits come back and the quality render starts.
    await q(`SELECT leave_line($1)`, [fast]);
    expect(await statusOf(quality)).toBe('processing');
    expect(Number((await quota('veo3_credits_day')).used)).toBe(250);
  });

  it('counts what a render actually cost once it is recorded', async () => {
    await clearAll();
    await setQuota('veo3_credits_day', `quota_limit = 6000, low_priority_share = 0.8`);
    const a = await enqueue('veo3', 'P1');
    expect(await grant('veo3')).toEqual([a]);
    await called(a);
    await q(`SELECT record_provider_task($1, 'task-1', 75)`, [a]);
    expect(Number((await quota('veo3_credits_day')).used)).toBe(75);
  });
});

describe('a provider quota error', () => {
  it('parks only the affected account until the reset and gives the job its unit back', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 50, window_kind = 'moving', window_seconds = 86400`);
    await q(`DELETE FROM provider_quotas WHERE name = 'instagram_posts_b'`);
    await q(`INSERT INTO provider_quotas (name, provider, account, window_kind, window_seconds, quota_limit, unit)
             VALUES ('instagram_posts_b', 'instagram', 'brand-b', 'moving', 86400, 50, 'posts')`);
    await q(`INSERT INTO quota_costs (quota, job_type, units) VALUES ('instagram_posts_b', 'instagram_reel', 1)`);
    const refused = await enqueue('instagram', 'P1');
    expect(await grant('instagram')).toEqual([refused]);
    await called(refused);
    const until = new Date(Date.now() + 3_600_000);
    const parked = await q<{ quota: string }>(`SELECT * FROM park_quota_for_job($1, $2, 'instagram: (#9) publishing limit')`, [
      refused,
      until,
    ]);
    expect(parked.map((p) => p.quota)).toEqual(['instagram_posts']);
    await q(`SELECT leave_line($1)`, [refused]);
    await q(`SELECT * FROM wait_for_slot($1, 1)`, [refused]);
    expect(await q(`SELECT * FROM quota_usage WHERE job_id = $1`, [refused])).toHaveLength(0);

    const other = await enqueue('instagram', 'P3', { accounts: { instagram: 'brand-b' } });
    const same = await enqueue('instagram', 'P0');
    // Account brand-b posts; the parked default account waits, its P0 included.
    expect(await grant('instagram')).toEqual([other]);
    expect(await statusOf(refused)).toBe('queued');
    expect(await statusOf(same)).toBe('queued');
    const status = await quota('instagram_posts');
    expect(status.parked_until!.getTime()).toBe(until.getTime());
    // The reset passes: the line moves again.
    await q(`UPDATE provider_quotas SET parked_until = now() - interval '1 second' WHERE name = 'instagram_posts'`);
    expect(await grant('instagram')).toEqual([same, refused]);
    await q(`DELETE FROM provider_quotas WHERE name = 'instagram_posts_b'`);
  });

  it('counts what the provider reports when it is more than ours', async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 50, window_kind = 'moving', window_seconds = 86400`);
    // content_publishing_limit says 24 of 25 used (posts made outside Reelflow).
    await q(`SELECT report_quota('instagram_posts', 1, 25)`);
    const s = await quota('instagram_posts');
    expect(Number(s.used)).toBe(24);
    expect(Number(s.quota_limit)).toBe(25);
    const a = await enqueue('instagram', 'P1');
    const b = await enqueue('instagram', 'P1');
    expect(await grant('instagram')).toEqual([a]);
    expect(await statusOf(b)).toBe('queued');
  });

  it("counts our posts still on their way on top of the platform's reading, which holds only published posts", async () => {
    await clearAll();
    await setQuota('instagram_posts', `quota_limit = 50, window_kind = 'moving', window_seconds = 86400`);
    const inFlight = await enqueue('instagram', 'P1');
    expect(await grant('instagram')).toEqual([inFlight]);
    await called(inFlight);
    // Read while our post uploads: 24 of 25 published, by posts made outside Reelflow. Ours makes 25.
    await q(`SELECT report_quota('instagram_posts', 1, 25)`);
    expect(Number((await quota('instagram_posts')).used)).toBe(25);
    const next = await enqueue('instagram', 'P0');
    expect(await grant('instagram')).toEqual([]);
    await complete(inFlight);
    expect(Number((await quota('instagram_posts')).used)).toBe(25);
    expect(await statusOf(next)).toBe('queued');
  });
});

describe('bad quotas', () => {
  it('are refused in SQL with the field named', async () => {
    const insert = (values: string) =>
      q(`INSERT INTO provider_quotas (name, provider, account, window_kind, window_seconds, time_zone, quota_limit, unit)
         VALUES ${values}`);
    await expect(insert(`('x1', 'instagram', 'default', 'moving', 60, 'UTC', -1, 'posts')`)).rejects.toThrow(/quota_limit/);
    await expect(insert(`('x2', 'instagram', 'default', 'moving', 0, 'UTC', 1, 'posts')`)).rejects.toThrow(/window_seconds/);
    await expect(insert(`('x3', 'vimeo', 'default', 'moving', 60, 'UTC', 1, 'posts')`)).rejects.toThrow(/provider/);
    await expect(insert(`('x4', 'instagram', 'default', 'calendar', 60, 'Mars/Olympus', 1, 'posts')`)).rejects.toThrow(
      /time_zone.*Mars\/Olympus/,
    );
    await expect(q(`UPDATE provider_quotas SET low_priority_share = 0 WHERE name = 'veo3_credits_day'`)).rejects.toThrow(
      /low_priority_share/,
    );
    expect(await q(`SELECT name FROM provider_quotas WHERE name LIKE 'x_'`)).toHaveLength(0);
  });

  it('are checked against the time zone database only when the zone is new to the row (0029)', async () => {
    // pg_timezone_names takes about 40 ms a read: a session where reading it fails shows who still reads it.
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query(`SET search_path = pg_temp, pg_catalog, public`);
      await c.query(`CREATE TEMP VIEW pg_timezone_names AS SELECT name FROM pg_catalog.pg_timezone_names WHERE length(name) / 0 = 1`);
      await expect(c.query(`SELECT name FROM pg_timezone_names`)).rejects.toThrow(/division by zero/);
      // A provider's figures reported on publish (report_job_quota's write), and a process's start re-syncing the row.
      await c.query(`UPDATE provider_quotas SET reported_remaining = 3, reported_at = now() WHERE name = 'instagram_posts'`);
      await c.query(`INSERT INTO provider_quotas AS p (name, provider, account, window_kind, window_seconds, time_zone, quota_limit, unit)
                     SELECT name, provider, account, window_kind, window_seconds, time_zone, quota_limit, unit
                       FROM provider_quotas WHERE name = 'instagram_posts'
                     ON CONFLICT (name) DO UPDATE SET quota_limit = excluded.quota_limit, updated_at = now()`);
      // A zone new to the row is looked up.
      await expect(c.query(`UPDATE provider_quotas SET time_zone = 'Europe/Madrid' WHERE name = 'instagram_posts'`)).rejects.toThrow(
        /division by zero/,
      );
    } finally {
      await c.end();
    }
  });

  it('are refused in REELFLOW_QUOTAS with the variable and field named', () => {
    const env = (quotas: unknown) => loadEnv({ REELFLOW_QUOTAS: JSON.stringify(quotas) });
    expect(() => env({ instagram_posts: { limit: -5 } })).toThrow(/REELFLOW_QUOTAS.*instagram_posts.*limit/);
    expect(() => env({ instagram_posts: { window: { kind: 'moving', seconds: 0 } } })).toThrow(/REELFLOW_QUOTAS.*window.*seconds/);
    expect(() => env({ instagram_posts: { provider: 'vimeo' } })).toThrow(/REELFLOW_QUOTAS.*provider/);
    // No job names another account: such a quota would never apply, its budget passed unseen.
    expect(() => env({ veo3_credits_day: { account: 'kie-main' } })).toThrow(
      /REELFLOW_QUOTAS\.veo3_credits_day\.account must be 'default': no job names another account/,
    );
    // A blank number is unset (its default), not 0: a render costing 0 credits passed every spend budget.
    expect(loadEnv({ KIE_CREDITS_PER_VIDEO: '', API_PORT: ' ' })).toMatchObject({ KIE_CREDITS_PER_VIDEO: 60 });
    expect(effectiveQuotas(loadEnv({ KIE_CREDITS_PER_VIDEO: '' })).veo3_credits_day!.costs.veo3_chollo).toBe(60);
    expect(() => loadEnv({ KIE_CREDITS_PER_VIDEO: 'sesenta' })).toThrow(/KIE_CREDITS_PER_VIDEO/);
    expect(() => effectiveQuotas({ REELFLOW_QUOTAS: { brand_b: { limit: 5 } } })).toThrow(/REELFLOW_QUOTAS\.brand_b.*every field/);
    const ok = effectiveQuotas({ REELFLOW_QUOTAS: { instagram_posts: { limit: 25 } }, KIE_CREDITS_PER_VIDEO: 80 });
    expect(ok.instagram_posts!.limit).toBe(25);
    expect(ok.veo3_credits_day!.costs.veo3_chollo).toBe(80);
    // A deployment rendering on the quality model is granted at that model's price.
    const quality = effectiveQuotas({ KIE_MODEL: 'veo3', KIE_CREDITS_PER_VIDEO: 60, KIE_CREDITS_PER_VIDEO_QUALITY: 250 });
    expect(quality.veo3_credits_day!.costs.veo3_chollo).toBe(250);
    // A channel check spends Data API units only through the API (playlistItems + videos.list), not the public feed.
    expect(effectiveQuotas({ YOUTUBE_DATA_API_KEY: 'k' }).youtube_api_units!.costs.youtube_discovery).toBe(2);
    expect(effectiveQuotas({}).youtube_api_units!.costs.youtube_discovery).toBe(0);
  });
});

describe('quota_status', () => {
  it('is planned as the one row each quota is, so no read is compiled (0030)', async () => {
    // Planned at 1,000 rows a quota (a set-returning function's default), the view cost over jit_above_cost and was
    // compiled with LLVM on every read: 10 ms of 11.
    const [explained] = await q<{ 'QUERY PLAN': Array<{ Plan: { 'Total Cost': number }; JIT?: unknown }> }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM quota_status`,
    );
    const [setting] = await q<{ jit_above_cost: string }>(`SHOW jit_above_cost`);
    const plan = explained!['QUERY PLAN'][0]!;
    expect(plan.Plan['Total Cost']).toBeLessThan(Number(setting!.jit_above_cost) / 100);
    expect(plan.JIT).toBeUndefined();
  });
});

describe('ETA', () => {
  // Day windows in a zone where it is now about noon (noonZone): the tests reason about "tomorrow's unit" and a job
  // expiring within the hour.
  it('follows the line through the cap, the quota and a reprioritise', async () => {
    await clearAll();
    await q(`UPDATE provider_limits SET max_concurrent = 1, min_start_interval_ms = 0 WHERE provider = 'tiktok'`);
    await setQuota('tiktok_posts', `quota_limit = 2, window_kind = 'calendar', window_seconds = 86400, time_zone = '${noonZone()}'`);
    try {
      const running = await enqueue('tiktok', 'P2', {}, 60);
      expect(await grant('tiktok')).toEqual([running]);
      await called(running);
      const p3 = await enqueue('tiktok', 'P3', {}, 60);
      const p2 = await enqueue('tiktok', 'P2', {}, 60);
      const now = new Date();
      let etas = await estimateStarts(t.database.pool, now);
      // The running job ends in about 60 s: the P2 starts then; the P3 needs a unit from tomorrow's window.
      expect(etas.get(p2)!.waitingFor).toBe('slot');
      expect(etas.get(p2)!.eta!.getTime() - now.getTime()).toBeGreaterThan(55_000);
      expect(etas.get(p2)!.eta!.getTime() - now.getTime()).toBeLessThan(65_000);
      expect(etas.get(p3)!.waitingFor).toBe('quota');
      expect(etas.get(p3)!.quota).toBe('tiktok_posts');
      const reset = (await quota('tiktok_posts')).reset_at!;
      expect(etas.get(p3)!.eta!.getTime()).toBe(reset.getTime());

      // The P3 becomes a P0: it takes the unit left today, the P2 waits for tomorrow.
      const [wf] = await q<{ workflow_id: string }>(`SELECT workflow_id FROM automation_queue WHERE id = $1`, [p3]);
      await q(`SELECT * FROM reprioritise_workflow_jobs($1, 'P0')`, [wf!.workflow_id]);
      etas = await estimateStarts(t.database.pool, now);
      expect(etas.get(p3)!.waitingFor).toBe('slot');
      expect(etas.get(p2)!.waitingFor).toBe('quota');
      expect(etas.get(p2)!.eta!.getTime()).toBe(reset.getTime());
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 5 WHERE provider = 'tiktok'`);
    }
  });

  it('prices a render asking for the other model at its own price, as the gate does', async () => {
    await clearAll();
    await setQuota(
      'veo3_credits_day',
      `quota_limit = 300, low_priority_share = 1, window_kind = 'calendar', window_seconds = 86400, time_zone = '${noonZone()}'`,
    );
    const running = await enqueue('veo3', 'P1', {}, 60);
    expect(await grant('veo3')).toEqual([running]);
    await called(running);
    // 60 + 250 > 300: the quality render waits for tomorrow's budget, not for a slot.
    const quality = await enqueue('veo3', 'P1', { model: 'veo3', credits: 250 }, 60);
    expect(await grant('veo3')).toEqual([]);
    const etas = await estimateStarts(t.database.pool, new Date());
    expect(etas.get(quality)).toMatchObject({ waitingFor: 'budget', quota: 'veo3_credits_day' });
    expect(etas.get(quality)!.eta!.getTime()).toBe((await quota('veo3_credits_day')).reset_at!.getTime());
  });

  it('a job that will expire before it can start, or that can never fit, does not push back the jobs of another account', async () => {
    await clearAll();
    await q(`UPDATE provider_limits SET max_concurrent = 1, min_start_interval_ms = 0 WHERE provider = 'tiktok'`);
    await setQuota('tiktok_posts', `quota_limit = 1, window_kind = 'calendar', window_seconds = 86400, time_zone = '${noonZone()}'`);
    await q(`DELETE FROM provider_quotas WHERE name = 'tiktok_posts_b'`);
    await q(`INSERT INTO provider_quotas (name, provider, account, window_kind, window_seconds, quota_limit, unit)
             VALUES ('tiktok_posts_b', 'tiktok', 'creator-b', 'calendar', 86400, 5, 'posts')`);
    await q(`INSERT INTO quota_costs (quota, job_type, units) VALUES ('tiktok_posts_b', 'tiktok_video', 1)`);
    try {
      const running = await enqueue('tiktok', 'P1', {}, 60);
      expect(await grant('tiktok')).toEqual([running]);
      await called(running);
      // Needs tomorrow's unit but expires in an hour; behind it, another creator's post.
      const expiring = await enqueue('tiktok', 'P0', {}, 60, new Date(Date.now() + 3_600_000));
      const other = await enqueue('tiktok', 'P2', { accounts: { tiktok: 'creator-b' } }, 60);
      const now = new Date();
      const etas = await estimateStarts(t.database.pool, now);
      expect(etas.get(expiring)!.waitingFor).toBe('quota');
      // The other creator's post waits only for the running job's slot, not for the expiring one.
      expect(etas.get(other)!.waitingFor).toBe('slot');
      expect(etas.get(other)!.eta!.getTime() - now.getTime()).toBeLessThan(65_000);

      // A post costing more than the whole limit never starts; the other creator's ETA is still there.
      await setQuota('tiktok_posts', 'quota_limit = 0');
      const after = await estimateStarts(t.database.pool, now);
      expect(after.get(expiring)!.eta).toBeNull();
      expect(after.get(other)!.eta).not.toBeNull();
    } finally {
      await q(`DELETE FROM provider_quotas WHERE name = 'tiktok_posts_b'`);
      await q(`UPDATE provider_limits SET max_concurrent = 5 WHERE provider = 'tiktok'`);
    }
  });
  it('learns run times: a job type from its own last runs, else from how its provider ran against its estimates', async () => {
    await clearAll();
    // Nothing finished within the hour: the runs of the tests before this one do not count.
    await q(`UPDATE automation_queue SET completed_at = now() - interval '2 hours' WHERE status = 'completed'`);
    await q(`UPDATE provider_limits SET max_concurrent = 1, min_start_interval_ms = 0 WHERE provider = 'tiktok'`);
    await setQuota('tiktok_posts', `quota_limit = 1000, window_kind = 'moving', window_seconds = 3600`);
    const finish = async (jobType: string, seconds: number) => {
      const id = await enqueue('tiktok', 'P2', {}, 300);
      await q(
        `UPDATE automation_queue SET status = 'completed', waiting_since = NULL, job_type = $2,
                started_at = now() - make_interval(secs => $3 + 1), completed_at = now() - interval '1 second'
          WHERE id = $1`,
        [id, jobType, seconds],
      );
    };
    const etaIn = async (id: string) => {
      const now = new Date();
      return ((await estimateStarts(t.database.pool, now)).get(id)!.eta!.getTime() - now.getTime()) / 1_000;
    };
    try {
      // A post running for 5 s and one waiting for its slot, both estimated at 300 s.
      const running = await enqueue('tiktok', 'P2', {}, 300);
      expect(await grant('tiktok')).toEqual([running]);
      await q(`UPDATE automation_queue SET started_at = now() - interval '5 seconds' WHERE id = $1`, [running]);
      const waiting = await enqueue('tiktok', 'P2', {}, 300);
      // Nothing learned yet: the estimate.
      expect(await etaIn(waiting)).toBeGreaterThan(290);

      // Three posts of another kind took 20 s each against the same 300 s: this kind is scaled by that pace.
      for (let i = 0; i < 3; i++) await finish('tiktok_other', 20);
      const scaled = await etaIn(waiting);
      expect(scaled).toBeGreaterThan(10);
      expect(scaled).toBeLessThan(20);

      // Three of its own kind took 40 s: its own runs win.
      for (let i = 0; i < 3; i++) await finish('tiktok_video', 40);
      const own = await etaIn(waiting);
      expect(own).toBeGreaterThan(30);
      expect(own).toBeLessThan(40);
      // The calendar draws each run as long as that: the running post ends at its start, the waiting one 40 s after.
      const plan = await planLines(t.database.pool);
      const eta = plan.starts.get(waiting)!.eta!.getTime();
      expect(plan.ends.get(running)!.getTime()).toBe(eta);
      expect(plan.ends.get(waiting)!.getTime() - eta).toBeCloseTo(40_000, -3);
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 5 WHERE provider = 'tiktok'`);
    }
  });
});
