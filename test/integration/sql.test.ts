/**
 * The queue's SQL functions and views against real PostgreSQL: each returns
 * what the rows say. No Temporal involved.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSnapshot, providerPanels } from '../../src/api/stats';
import { effectiveLimits } from '../../src/config/env';
import { migrateDatabase } from '../../src/db/migrate';
import { PRESENCE_LOCK_CLASS, takePresence } from '../../src/gate/presence';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import JOURNAL from '../../drizzle/meta/_journal.json';
import { SCENARIO_TABLES } from '../../bench/setup';

let t: TestDatabase;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await t.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  t = await createTestDatabase(effectiveLimits({ REELFLOW_LIMITS: { veo3: { maxConcurrent: 2, minStartIntervalMs: 0 } } }));
});
afterAll(async () => t?.drop());

let seq = 0;
async function enqueue(
  opts: { provider?: string; priority?: string; scheduleAfter?: Date | null; deadline?: Date | null; estimate?: number } = {},
) {
  const wf = `wf-${++seq}`;
  const [job] = await q<{ id: string; status: string }>(
    `SELECT * FROM enqueue_job($1, 'generate', 'veo3_chollo', $2, $3, '{}'::jsonb, NULL, $4, $5, $6, 3)`,
    [wf, opts.provider ?? 'veo3', opts.priority ?? 'P2', opts.scheduleAfter ?? null, opts.deadline ?? null, opts.estimate ?? 300],
  );
  return { ...job!, workflowId: wf };
}
const wait = (id: string, attempt = 1) => q(`SELECT * FROM wait_for_slot($1, $2)`, [id, attempt]);
const grant = async (provider = 'veo3') => (await q<{ r: { granted: string[] } }>(`SELECT grant_slots($1) AS r`, [provider]))[0]!.r;
const job = async (id: string) => (await q<Record<string, unknown>>(`SELECT * FROM automation_queue WHERE id = $1`, [id]))[0]!;
const clearLine = () =>
  q(
    `UPDATE automation_queue SET status = 'cancelled', waiting_since = NULL WHERE status IN ('queued','processing');
     DELETE FROM provider_slots`,
  );

describe('migrations', () => {
  it('apply twice without error and record each migration once', async () => {
    await migrateDatabase(t.url, effectiveLimits({}));
    await migrateDatabase(t.url, effectiveLimits({}));
    const rows = await q<{ n: number }>(`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
    expect(rows[0]!.n).toBe(JOURNAL.entries.length);
    // The limits table re-applied: overrides from the first call were replaced by the defaults.
    const [veo3] = await q<{ min_start_interval_ms: number }>(`SELECT * FROM provider_limits WHERE provider = 'veo3'`);
    expect(veo3!.min_start_interval_ms).toBe(10_000);
    await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
  });
});

describe('enqueue_job', () => {
  it('is idempotent per (workflow, step) and logs one enqueued event', async () => {
    const a = await enqueue();
    const [again] = await q<{ id: string }>(
      `SELECT * FROM enqueue_job($1, 'generate', 'veo3_chollo', 'veo3', 'P2', '{}'::jsonb, NULL, NULL, NULL, 300, 3)`,
      [a.workflowId],
    );
    expect(again!.id).toBe(a.id);
    const events = await q(`SELECT * FROM job_events WHERE job_id = $1 AND event = 'enqueued'`, [a.id]);
    expect(events).toHaveLength(1);
  });

  it('rejects an unknown provider and an out-of-range priority without writing a row', async () => {
    const before = (await q<{ n: number }>(`SELECT count(*)::int AS n FROM automation_queue`))[0]!.n;
    await expect(enqueue({ provider: 'vimeo' })).rejects.toThrow(/unknown provider "vimeo"/);
    await expect(enqueue({ priority: 'P9' })).rejects.toThrow(/automation_queue_priority_check/);
    const after = (await q<{ n: number }>(`SELECT count(*)::int AS n FROM automation_queue`))[0]!.n;
    expect(after).toBe(before);
  });
});

describe('grant_slots', () => {
  it('grants up to the cap, in priority then age order, and hands a released slot to the next', async () => {
    await clearLine();
    const p3a = await enqueue({ priority: 'P3' });
    const p3b = await enqueue({ priority: 'P3' });
    const p1 = await enqueue({ priority: 'P1' });
    const p0 = await enqueue({ priority: 'P0' });
    for (const j of [p3a, p3b, p1, p0]) await wait(j.id);
    const first = await grant();
    expect(first.granted).toEqual([p0.id, p1.id]);
    expect((await job(p0.id)).status).toBe('processing');
    expect((await grant()).granted).toEqual([]);
    const [cap] = await q<Record<string, number>>(`SELECT * FROM get_available_capacity('veo3')`);
    expect(cap).toMatchObject({ max_concurrent: 2, in_use: 2, free: 0, waiting: 2 });

    // complete_job frees the slot and grants it in the same transaction.
    await q(`SELECT complete_job($1, '{"videoUrl":"x"}'::jsonb, 60)`, [p0.id]);
    expect((await job(p3a.id)).status).toBe('processing');
    expect((await job(p3b.id)).status).toBe('queued');
    const done = await job(p0.id);
    expect(done.status).toBe('completed');
    expect(Number(done.cost)).toBe(60);
  });

  it('claim_start spaces provider calls by the minimum interval, whichever process asks', async () => {
    await clearLine();
    await q(`UPDATE provider_limits SET min_start_interval_ms = 60000, last_start_at = NULL WHERE provider = 'veo3'`);
    try {
      const a = await enqueue();
      const claim = async () => (await q<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1)`, [a.id]))[0]!.w;
      expect(await claim()).toBe(0);
      const wait = await claim();
      expect(wait).toBeGreaterThan(59_000);
      expect(wait).toBeLessThanOrEqual(60_100);
      await q(`UPDATE provider_limits SET last_start_at = now() - interval '61 seconds' WHERE provider = 'veo3'`);
      expect(await claim()).toBe(0);
      expect(await q(`SELECT * FROM job_events WHERE job_id = $1 AND event = 'provider_call'`, [a.id])).toHaveLength(2);
      // It names the start margin (the caller's check of its own delay), and none for a provider without spacing.
      const margin = async () => (await q<{ m: number | null }>(`SELECT margin_ms AS m FROM claim_start('veo3', $1)`, [a.id]))[0]!.m;
      expect(await margin()).toBe(100);
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
      expect(await margin()).toBeNull();
    } finally {
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
    }
  });

  it('claim_start refresh: moves only its own latest start later, logs nothing, and waits when another start came in between', async () => {
    await clearLine();
    await q(`UPDATE provider_limits SET min_start_interval_ms = 60000, last_start_at = NULL WHERE provider = 'veo3'`);
    try {
      const [a, b] = [await enqueue(), await enqueue()];
      const claim = async (id: string, refresh: boolean) =>
        (await q<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1, true, NULL, $2)`, [id, refresh]))[0]!.w;
      const lastStart = async () =>
        (
          await q<{ at: Date; job: string }>(
            `SELECT last_start_at AS at, last_start_job AS job FROM provider_limits WHERE provider = 'veo3'`,
          )
        )[0]!;
      expect(await claim(a.id, false)).toBe(0);
      const first = await lastStart();
      expect(first.job).toBe(a.id);
      await q(`SELECT pg_sleep(0.05)`);
      // a's own start is the latest: the refresh moves it to now, within the interval, and records nothing more.
      expect(await claim(a.id, true)).toBe(0);
      const moved = await lastStart();
      expect(moved.at.getTime() - first.at.getTime()).toBeGreaterThanOrEqual(50);
      expect(await q(`SELECT * FROM job_events WHERE job_id = $1 AND event = 'provider_call'`, [a.id])).toHaveLength(1);
      // b may not refresh a's start: it waits the interval from it.
      expect(await claim(b.id, true)).toBeGreaterThan(59_000);
      expect((await lastStart()).at).toEqual(moved.at);
      // b started after the interval; a's late refresh now waits the interval from b's start.
      await q(`UPDATE provider_limits SET last_start_at = now() - interval '61 seconds' WHERE provider = 'veo3'`);
      expect(await claim(b.id, false)).toBe(0);
      expect(await claim(a.id, true)).toBeGreaterThan(59_000);
      expect((await lastStart()).job).toBe(b.id);
    } finally {
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
    }
  });

  it('claim_start holds a first start while a higher priority granted before it has not made its own (0027)', async () => {
    await clearLine();
    const claim = async (id: string) => (await q<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1)`, [id]))[0]!.w;
    const calls = async (id: string) => (await q(`SELECT 1 FROM job_events WHERE job_id = $1 AND event = 'provider_call'`, [id])).length;
    const grantBoth = async (a: { id: string }, b: { id: string }) => {
      for (const j of [a, b]) await wait(j.id);
      expect((await grant()).granted).toEqual([a.id, b.id]);
    };

    // A P0 granted first (its workflow still bringing it up), a P1 granted after it and ready at once: it waits (10 ms, more
    // as the hold lasts: a loaded machine may take over 40 ms between the grant and the ask, 0028).
    const p0 = await enqueue({ priority: 'P0' });
    const p1 = await enqueue({ priority: 'P1' });
    await grantBoth(p0, p1);
    expect(await claim(p1.id)).toBeGreaterThanOrEqual(10);
    expect(await calls(p1.id)).toBe(0);
    expect(await claim(p0.id)).toBe(0);
    expect(await claim(p1.id)).toBe(0);
    expect(await calls(p1.id)).toBe(1);
    // A later call of a job that has started is never held (Instagram's container, then its publish).
    await q(`SELECT complete_job($1, '{}'::jsonb, 1)`, [p0.id]);

    // Only for a while after the higher one's grant: a holder that never claims a start delays nobody for long.
    await clearLine();
    const stuck = await enqueue({ priority: 'P0' });
    const late = await enqueue({ priority: 'P3' });
    await grantBoth(stuck, late);
    expect(await claim(late.id)).toBeGreaterThanOrEqual(10);
    await q(`UPDATE provider_slots SET granted_at = granted_at - interval '2.1 seconds'`);
    expect(await claim(late.id)).toBe(0);

    // Equal priorities never wait for each other, nor a job for a higher one granted after it.
    await clearLine();
    const [a, b] = [await enqueue({ priority: 'P2' }), await enqueue({ priority: 'P2' })];
    await grantBoth(a, b);
    expect(await claim(b.id)).toBe(0);
    await clearLine();
    const first = await enqueue({ priority: 'P3' });
    await wait(first.id);
    expect((await grant()).granted).toEqual([first.id]);
    const urgent = await enqueue({ priority: 'P0' });
    await wait(urgent.id);
    expect((await grant()).granted).toEqual([urgent.id]);
    expect(await claim(first.id)).toBe(0);
  });

  it('claim_start answers a hold without the provider lock, and less often as it lasts (0028)', async () => {
    await clearLine();
    const p0 = await enqueue({ priority: 'P0' });
    const p3 = await enqueue({ priority: 'P3' });
    for (const j of [p0, p3]) await wait(j.id);
    expect((await grant()).granted).toEqual([p0.id, p3.id]);
    // A grant or callback of that provider holds its lock: the held job is answered anyway, without waiting for it.
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM provider_limits WHERE provider = 'veo3' FOR UPDATE`);
      const asker = new pg.Client({ connectionString: t.url });
      await asker.connect();
      try {
        await asker.query(`SET lock_timeout = '500ms'`);
        const ask = () => asker.query<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1)`, [p3.id]);
        // The wait and how long the slot has been held, read by the database in the same statement (a loaded machine
        // only holds it longer).
        const askHeld = async () =>
          (
            await asker.query<{ w: number; held: number }>(
              `SELECT c.wait_ms AS w, (extract(epoch FROM clock_timestamp() - s.granted_at) * 1000)::float8 AS held
                 FROM claim_start('veo3', $1) c, provider_slots s WHERE s.job_id = $1`,
              [p3.id],
            )
          ).rows[0]!;
        // Just granted: 10 ms, or a quarter of the time held once that is more.
        const first = await askHeld();
        expect(first.w).toBeGreaterThanOrEqual(10);
        expect(first.w).toBeLessThanOrEqual(Math.max(10, Math.min(40, Math.ceil(first.held / 4))));
        // Held 100 ms and more by now (both grants moved back, the P0's still first): a quarter of the time held,
        // then at most 40 ms.
        await q(`UPDATE provider_slots SET granted_at = granted_at - interval '100 milliseconds'`);
        const later = await askHeld();
        expect(later.held).toBeGreaterThanOrEqual(100);
        expect(later.w).toBeGreaterThanOrEqual(25);
        expect(later.w).toBeLessThanOrEqual(Math.min(40, Math.ceil(later.held / 4)));
        await q(`UPDATE provider_slots SET granted_at = granted_at - interval '1 second'`);
        expect((await ask()).rows[0]!.w).toBe(40);
        // The start itself is made under the lock: it waits for the holder (here, past lock_timeout).
        await q(`UPDATE provider_slots SET called_at = now() WHERE job_id = $1`, [p0.id]);
        await expect(ask()).rejects.toThrow(/lock timeout/);
      } finally {
        await asker.end();
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await q<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1)`, [p3.id]))[0]!.w).toBe(0);
  });

  it('claim_start gives each spacing window to the first in turn: by priority, then by who waited first (0038)', async () => {
    await clearLine();
    await q(`UPDATE provider_limits SET min_start_interval_ms = 60000, start_margin_ms = 100, last_start_at = clock_timestamp()
              WHERE provider = 'veo3'`);
    // Asks with the last start moved so that the next was due `sinceMs` ago, in one statement: a slow machine between
    // two statements cannot move the ask out of the window's first moments.
    await q(`CREATE OR REPLACE FUNCTION test_claim_due_since(p_job uuid, p_since_ms integer) RETURNS integer
             LANGUAGE plpgsql AS $f$
             BEGIN
               UPDATE provider_limits
                  SET last_start_at = clock_timestamp() - make_interval(secs => (60000 + 100 + p_since_ms) / 1000.0)
                WHERE provider = 'veo3';
               RETURN (SELECT wait_ms FROM claim_start('veo3', p_job));
             END $f$`);
    const claim = async (id: string) => (await q<{ w: number }>(`SELECT wait_ms AS w FROM claim_start('veo3', $1)`, [id]))[0]!.w;
    const claimDue = async (id: string, sinceMs: number) =>
      (await q<{ w: number }>(`SELECT test_claim_due_since($1, $2) AS w`, [id, sinceMs]))[0]!.w;
    const calls = async (id: string) => (await q(`SELECT 1 FROM job_events WHERE job_id = $1 AND event = 'provider_call'`, [id])).length;
    const holding = async (...jobs: { id: string }[]) => {
      for (const j of jobs) await wait(j.id);
      expect((await grant()).granted).toEqual(jobs.map((j) => j.id));
    };
    try {
      // Two P2 holders told to wait for the spacing, a first: at the window, b asking first is answered a short wait.
      const [a, b] = [await enqueue(), await enqueue()];
      await holding(a, b);
      expect(await claim(a.id)).toBeGreaterThan(59_000);
      expect(await claim(b.id)).toBeGreaterThan(59_000);
      const wanted = await q<{ job_id: string }>(
        `SELECT job_id FROM provider_slots WHERE start_wanted_at IS NOT NULL ORDER BY start_wanted_at`,
      );
      expect(wanted.map((r) => r.job_id)).toEqual([a.id, b.id]);
      const held = await claimDue(b.id, 5);
      expect(held).toBeGreaterThanOrEqual(1);
      expect(held).toBeLessThanOrEqual(10);
      expect(await calls(b.id)).toBe(0);
      // a takes its turn; b then waits for the next window, and is first in it.
      expect(await claimDue(a.id, 5)).toBe(0);
      expect(await calls(a.id)).toBe(1);
      expect(await claim(b.id)).toBeGreaterThan(59_000);
      await q(`SELECT complete_job($1, '{}'::jsonb, 1)`, [a.id]);
      const c = await enqueue();
      await holding(c);
      expect(await claim(c.id)).toBeGreaterThan(59_000);
      expect(await claimDue(c.id, 5)).toBeGreaterThan(0);
      expect(await claimDue(b.id, 5)).toBe(0);

      // A holder first in turn that does not come within the grace (50 ms) loses that window to whoever asks.
      await clearLine();
      const [gone, here] = [await enqueue(), await enqueue()];
      await holding(gone, here);
      expect(await claim(gone.id)).toBeGreaterThan(59_000);
      expect(await claim(here.id)).toBeGreaterThan(59_000);
      expect(await claimDue(here.id, 60)).toBe(0);

      // Priority before the wait: a P1 that began waiting after a P3 still goes first (granted after it: no 0027 hold).
      await clearLine();
      const p3 = await enqueue({ priority: 'P3' });
      await holding(p3);
      const p1 = await enqueue({ priority: 'P1' });
      await holding(p1);
      expect(await claim(p3.id)).toBeGreaterThan(59_000);
      expect(await claim(p1.id)).toBeGreaterThan(59_000);
      expect(await claimDue(p3.id, 5)).toBeGreaterThan(0);
      expect(await claimDue(p1.id, 5)).toBe(0);

      // A job past its first start (a second call: Instagram's container, then its publish) takes no turn and waits
      // for nobody's, only for the spacing: the P3, started alone, calls again while a P1 waits.
      await clearLine();
      const started = await enqueue({ priority: 'P3' });
      await holding(started);
      expect(await claimDue(started.id, 5)).toBe(0);
      const urgent = await enqueue({ priority: 'P1' });
      await holding(urgent);
      expect(await claim(urgent.id)).toBeGreaterThan(59_000);
      expect(await claimDue(started.id, 5)).toBe(0);
      expect(await calls(started.id)).toBe(2);

      // A reel's next segment, handed its slot by the segment before, has not started: it takes its turn (0041). It
      // took none, as if the slot's first start were its own: in the walk, a P0 segment held its slot idle for 60 s
      // while the other slot's hand-overs gave six P1 renders the start at each window's first moment.
      await clearLine();
      const [seg1, seg2] = [await enqueue({ priority: 'P0' }), await enqueue({ priority: 'P0' })];
      await holding(seg1);
      expect(await claimDue(seg1.id, 5)).toBe(0);
      await q(`SELECT complete_job_handing_over($1, '{}'::jsonb, 1, $2)`, [seg1.id, seg2.id]);
      const [handed] = await q<{ called_at: Date | null }>(`SELECT called_at FROM provider_slots WHERE job_id = $1`, [seg2.id]);
      expect(handed).toEqual({ called_at: null });
      expect(await claim(seg2.id)).toBeGreaterThan(59_000);
      // A P1 granted the other slot meanwhile: at the window it is answered a short wait, and the segment starts.
      const other = await enqueue({ priority: 'P1' });
      await holding(other);
      const heldBack = await claimDue(other.id, 5);
      expect(heldBack).toBeGreaterThan(0);
      expect(heldBack).toBeLessThanOrEqual(40);
      expect(await calls(other.id)).toBe(0);
      expect(await claimDue(seg2.id, 5)).toBe(0);
      expect(await calls(seg2.id)).toBe(1);
    } finally {
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
      await q(`DROP FUNCTION IF EXISTS test_claim_due_since(uuid, integer)`);
    }
  });

  it('skips jobs scheduled for later, past their deadline, or whose waiter went silent', async () => {
    await clearLine();
    const later = await enqueue({ scheduleAfter: new Date(Date.now() + 3_600_000) });
    const expired = await enqueue({ deadline: new Date(Date.now() - 1_000) });
    const silent = await enqueue();
    for (const j of [later, expired, silent]) await wait(j.id);
    await q(`UPDATE automation_queue SET last_heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [silent.id]);
    expect((await grant()).granted).toEqual([]);
  });

  it('reclaims a slot whose lease lapsed, but keeps a held one until hold_until', async () => {
    await clearLine();
    const a = await enqueue();
    const b = await enqueue();
    await wait(a.id);
    await wait(b.id);
    expect((await grant()).granted).toEqual([a.id, b.id]);
    await q(`UPDATE provider_slots SET lease_expires_at = now() - interval '1 second' WHERE job_id = $1`, [a.id]);
    await q(
      `UPDATE provider_slots SET lease_expires_at = now() - interval '1 second', hold_until = now() + interval '1 hour' WHERE job_id = $1`,
      [b.id],
    );
    const c = await enqueue();
    await wait(c.id);
    expect((await grant()).granted).toEqual([c.id]);
    const slots = await q<{ job_id: string }>(`SELECT job_id FROM provider_slots ORDER BY granted_at`);
    expect(slots.map((s) => s.job_id)).toEqual([b.id, c.id]);
  });
});

describe('a cancel while the submit request is out', () => {
  it('holds the slot of the sent submit (0055) until it is found to have made nothing, which frees it (0058)', async () => {
    await clearLine();
    const [a, b] = [await enqueue(), await enqueue()];
    for (const j of [a, b]) await wait(j.id);
    await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    try {
      expect((await grant()).granted).toEqual([a.id]);
      await q(`UPDATE automation_queue SET submit_attempted_at = now() WHERE id = $1`, [a.id]);
      await q(`SELECT count(*) FROM cancel_workflow_jobs($1, 'test')`, [a.workflowId]);
      // The render the request may have made runs on at KIE: its slot stays counted, the next job waits.
      expect(await q(`SELECT job_id, job_status FROM held_slots`)).toEqual([{ job_id: a.id, job_status: 'cancelled' }]);
      expect((await job(b.id)).status).toBe('queued');
      // KIE refused it (made nothing): nothing runs in that slot, and no callback will come to free it.
      await q(`SELECT clear_submit_attempt($1, 500)`, [a.id]);
      expect(await q(`SELECT job_id FROM provider_slots`)).toEqual([{ job_id: b.id }]);
      expect((await job(b.id)).status).toBe('processing');
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });
});

describe('a lapsed lease', () => {
  it('keeps the slot of a job whose paid task may still run until its expected end (0057); a task heard ended lets it go', async () => {
    await clearLine();
    const [running, submitted, ended] = [await enqueue(), await enqueue(), await enqueue()];
    for (const j of [running, submitted, ended]) await wait(j.id);
    await q(`UPDATE provider_limits SET max_concurrent = 3 WHERE provider = 'veo3'`);
    try {
      expect((await grant()).granted).toEqual([running.id, submitted.id, ended.id]);
      await q(`UPDATE automation_queue SET provider_task_id = 'task-running' WHERE id = $1`, [running.id]);
      await q(`UPDATE automation_queue SET submit_attempted_at = now() WHERE id = $1`, [submitted.id]);
      await q(`UPDATE automation_queue SET provider_task_id = 'task-ended', task_ended_at = now() WHERE id = $1`, [ended.id]);
      // Every worker gone past the lease (nothing renews it, nothing took the jobs back).
      await q(`UPDATE provider_slots SET lease_expires_at = now() - interval '1 second'`);
      const next = await enqueue();
      await wait(next.id);
      expect((await grant()).granted).toEqual([next.id]);
      const slots = await q<{ job_id: string; hold_until: Date | null; expected_end: Date }>(
        `SELECT s.job_id, s.hold_until, q.started_at + make_interval(secs => 2 * q.estimated_duration_seconds) AS expected_end
           FROM provider_slots s JOIN automation_queue q ON q.id = s.job_id ORDER BY s.granted_at`,
      );
      expect(slots.map((s) => s.job_id)).toEqual([running.id, submitted.id, next.id]);
      for (const s of slots.slice(0, 2)) expect(s.hold_until).toEqual(s.expected_end);
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });
});

describe('fail_job', () => {
  it('puts a failed attempt back in line until attempts reach max_attempts, then fails it', async () => {
    await clearLine();
    const a = await enqueue();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await wait(a.id, attempt);
      await grant();
      const [row] = await q<Record<string, unknown>>(`SELECT * FROM fail_job($1, $2)`, [a.id, `boom ${attempt}`]);
      expect(row).toMatchObject({ attempts: attempt, status: attempt < 3 ? 'queued' : 'failed', error: `boom ${attempt}` });
    }
    const events = await q<{ event: string }>(
      `SELECT event FROM job_events WHERE job_id = $1 AND event IN ('retrying','failed') ORDER BY id`,
      [a.id],
    );
    expect(events.map((e) => e.event)).toEqual(['retrying', 'retrying', 'failed']);
  });

  it('fails at once when the error is final', async () => {
    const a = await enqueue();
    await wait(a.id);
    const [row] = await q<Record<string, unknown>>(`SELECT * FROM fail_job($1, 'bad prompt', true)`, [a.id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
  });
});

describe("the bench's isolation", () => {
  it('empties every table a scenario writes: a table referencing one of them is among them (TRUNCATE refuses otherwise)', async () => {
    // job_parts (0048) was left out: every isolate() failed from then on, and each scenario kept the rows of those before.
    const c = await t.database.pool.connect();
    try {
      await c.query('BEGIN');
      await expect(c.query(`TRUNCATE ${SCENARIO_TABLES.join(', ')}`)).resolves.toMatchObject({ command: 'TRUNCATE' });
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});

describe('views', () => {
  it('queue_pending orders by priority then age; queue_processing flags stuck jobs; mark_stuck_jobs reports once', async () => {
    await clearLine();
    const p2 = await enqueue({ priority: 'P2' });
    const p0 = await enqueue({ priority: 'P0' });
    const running = await enqueue({ priority: 'P1', estimate: 10 });
    await wait(running.id);
    await grant();
    const pending = await q<{ id: string; position: string }>(`SELECT id, position FROM queue_pending WHERE id = ANY($1)`, [
      [p2.id, p0.id],
    ]);
    expect(pending.map((r) => r.id)).toEqual([p0.id, p2.id]);
    // A place in line counts only the jobs in it (0040): the P0 is not asking yet (a later step, passed over by every
    // grant), so the P2 in line is first, and the P0 has no place.
    await q(`UPDATE automation_queue SET waiting_since = now() WHERE id = $1`, [p2.id]);
    const places = await q<{ id: string; position: string | null }>(`SELECT id, position FROM queue_pending WHERE id = ANY($1)`, [
      [p2.id, p0.id],
    ]);
    expect(Object.fromEntries(places.map((r) => [r.id, r.position]))).toEqual({ [p0.id]: null, [p2.id]: '1' });

    let [proc] = await q<{ is_stuck: boolean }>(`SELECT * FROM queue_processing WHERE id = $1`, [running.id]);
    expect(proc!.is_stuck).toBe(false);
    await q(`UPDATE automation_queue SET started_at = now() - interval '21 seconds' WHERE id = $1`, [running.id]);
    [proc] = await q<{ is_stuck: boolean }>(`SELECT * FROM queue_processing WHERE id = $1`, [running.id]);
    expect(proc!.is_stuck).toBe(true);
    expect((await q(`SELECT * FROM mark_stuck_jobs()`)).map((r) => r.id)).toEqual([running.id]);
    expect(await q(`SELECT * FROM mark_stuck_jobs()`)).toEqual([]);
    expect(await q(`SELECT * FROM job_events WHERE job_id = $1 AND event = 'stuck'`, [running.id])).toHaveLength(1);
  });

  it('a stuck job is one whose work ran 2x its estimate: its wait for a start is not work (0037)', async () => {
    await clearLine();
    // 2 slots, 5 s between starts (+100 ms margin): a holder may wait 10.2 s for its first start before it is late.
    await q(`UPDATE provider_limits SET min_start_interval_ms = 5000 WHERE provider = 'veo3'`);
    try {
      const a = await enqueue({ priority: 'P1', estimate: 10 });
      const b = await enqueue({ priority: 'P1', estimate: 10 });
      for (const j of [a, b]) await wait(j.id);
      await grant();
      const stuck = async () =>
        (
          await q<{ id: string; is_stuck: boolean }>(`SELECT id, is_stuck FROM queue_processing WHERE id = ANY($1) ORDER BY started_at`, [
            [a.id, b.id],
          ])
        )
          .filter((r) => r.is_stuck)
          .map((r) => r.id);
      /** The attempt took its slot `started` ago; its first start at the provider `called` ago (null: none yet). */
      const set = async (id: string, started: string, called: string | null) => {
        await q(`UPDATE automation_queue SET started_at = now() - $2::interval WHERE id = $1`, [id, started]);
        await q(`UPDATE provider_slots SET called_at = now() - $2::interval WHERE job_id = $1`, [id, called]);
      };

      // Slot taken 25 s ago, its first start 15 s later: 10 s of work, not stuck (it was, counted from the slot).
      await set(a.id, '25 seconds', '10 seconds');
      // Slot taken 25 s ago, no start yet: within 20 s of work plus the 10.2 s the spacing can explain.
      await set(b.id, '25 seconds', null);
      expect(await stuck()).toEqual([]);
      expect(await q(`SELECT * FROM mark_stuck_jobs()`)).toEqual([]);

      // Its work past 20 s; the other's wait past what the spacing explains: both reported, once.
      await set(a.id, '40 seconds', '21 seconds');
      await set(b.id, '31 seconds', null);
      expect((await stuck()).sort()).toEqual([a.id, b.id].sort());
      expect((await q<{ id: string }>(`SELECT id FROM mark_stuck_jobs()`)).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect(await q(`SELECT * FROM mark_stuck_jobs()`)).toEqual([]);

      // A retried attempt whose slot's first start came from an earlier attempt counts from its own start, as before.
      await q(`UPDATE automation_queue SET stuck_since = NULL WHERE id = $1`, [a.id]);
      await set(a.id, '5 seconds', '60 seconds');
      expect(await stuck()).toEqual([b.id]);
      await set(a.id, '21 seconds', '60 seconds');
      expect((await stuck()).sort()).toEqual([a.id, b.id].sort());
    } finally {
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
    }
  });

  it('queue_calendar_24h shows the next 24 h; recommendations_queue and queue_performance_by_type aggregate the rows', async () => {
    await clearLine();
    const soon = await enqueue({ scheduleAfter: new Date(Date.now() + 3_600_000) });
    const farAway = await enqueue({ scheduleAfter: new Date(Date.now() + 3 * 86_400_000) });
    const cal = await q<{ id: string }>(`SELECT id FROM queue_calendar_24h`);
    expect(cal.map((r) => r.id)).toContain(soon.id);
    expect(cal.map((r) => r.id)).not.toContain(farAway.id);

    const [rec] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title) VALUES ('P0', 'trend_jump', 'Trend') RETURNING id`,
    );
    await q(
      `SELECT * FROM enqueue_job('wf-rec', 'generate', 'veo3_competitive_response', 'veo3', 'P0', '{}'::jsonb, $1, NULL, NULL, 300, 3)`,
      [rec!.id],
    );
    const [rq] = await q<Record<string, unknown>>(`SELECT * FROM recommendations_queue WHERE id = $1`, [rec!.id]);
    expect(rq).toMatchObject({ jobs: 1, jobs_open: 1, jobs_completed: 0, priority: 'P0' });

    const perf = await q<Record<string, unknown>>(`SELECT * FROM queue_performance_by_type WHERE job_type = 'veo3_chollo'`);
    expect(perf[0]!.completed).toBeGreaterThanOrEqual(1);
    expect(perf[0]!.failed).toBeGreaterThanOrEqual(2);
    expect(Number(perf[0]!.success_rate)).toBeGreaterThan(0);
    expect(Number(perf[0]!.success_rate)).toBeLessThan(1);
  });
});

describe('queue transitions (0002)', () => {
  const events = async (id: string) =>
    await q<{ event: string; detail: Record<string, unknown> }>(`SELECT event, detail FROM job_events WHERE job_id = $1 ORDER BY id`, [id]);
  const slot = async (id: string) => (await q<Record<string, unknown>>(`SELECT * FROM provider_slots WHERE job_id = $1`, [id]))[0];

  it('resume_job takes over a held slot; requeue_job puts a job whose slot went on back in line', async () => {
    await clearLine();
    const a = await enqueue();
    await wait(a.id);
    await grant();
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 2) AS r`, [a.id]))[0]!.r).toBe(true);
    expect(await job(a.id)).toMatchObject({ status: 'processing', attempts: 2, waiting_since: null });
    await q(`DELETE FROM provider_slots WHERE job_id = $1`, [a.id]);
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 3) AS r`, [a.id]))[0]!.r).toBe(false);
    expect((await q<{ r: boolean }>(`SELECT requeue_job($1) AS r`, [a.id]))[0]!.r).toBe(true);
    expect(await job(a.id)).toMatchObject({ status: 'queued', started_at: null });
    expect((await q<{ r: boolean }>(`SELECT requeue_job($1) AS r`, [a.id]))[0]!.r).toBe(false);
    expect((await events(a.id)).map((e) => e.event)).toEqual(['enqueued', 'waiting', 'started', 'resumed', 'requeued']);
  });

  it('resume_job gives a paid task still running at the provider its slot back, even past its deadline and the cap (0051)', async () => {
    await clearLine();
    const a = await enqueue({ deadline: new Date(Date.now() + 60_000) });
    await wait(a.id);
    await grant();
    await q(`SELECT record_provider_task($1, 'kie-task-running')`, [a.id]);
    // Its attempt stopped at its 2x bound (or its worker died): the slot went, the task runs on at KIE.
    await q(`DELETE FROM provider_slots WHERE job_id = $1`, [a.id]);
    await q(`UPDATE automation_queue SET deadline = now() - interval '1 minute' WHERE id = $1`, [a.id]);
    // The cap (2) filled meanwhile.
    for (const b of [await enqueue(), await enqueue()]) await wait(b.id);
    await grant();
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 2) AS r`, [a.id]))[0]!.r).toBe(true);
    expect(await job(a.id)).toMatchObject({ status: 'processing', attempts: 2, waiting_since: null });
    expect(await slot(a.id)).toMatchObject({ provider: 'veo3' });
    expect((await q<{ n: number }>(`SELECT count(*)::int AS n FROM provider_slots WHERE provider = 'veo3'`))[0]!.n).toBe(3);
    // Its end heard, a task needs no slot to be read; a job with no task still goes back in line.
    const c = await enqueue();
    await wait(c.id);
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 2) AS r`, [c.id]))[0]!.r).toBe(false);
  });

  it('fail_job, complete_job and leave_line write only for the attempt the row names: a stale attempt changes nothing (0059)', async () => {
    await clearLine();
    const a = await enqueue();
    await wait(a.id);
    await grant();
    // Temporal gave up on attempt 'old' and started 'new', which marked the row and resumed the slot (attempt 3 of 3).
    await q(`UPDATE automation_queue SET activity_token = 'new' WHERE id = $1`, [a.id]);
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 3) AS r`, [a.id]))[0]!.r).toBe(true);
    const before = { job: await job(a.id), slot: await slot(a.id), events: (await events(a.id)).length };
    const next = await enqueue();
    const stale = [
      `SELECT fail_job($1, 'stale', false, NULL, 'old')`,
      `SELECT fail_job($1, 'stale', true, NULL, 'old')`,
      `SELECT complete_job($1, '{"v": 1}'::jsonb, 1, 'old')`,
      `SELECT complete_job_handing_over($1, '{"v": 1}'::jsonb, 1, '${next.id}', 12000, 'old')`,
    ];
    for (const statement of stale) await expect(q(statement, [a.id]), statement).rejects.toMatchObject({ code: 'RF409' });
    expect((await q<{ left: boolean }>(`SELECT leave_line($1, 'old') AS left`, [a.id]))[0]!.left).toBe(false);
    // Nothing changed: the retry keeps its slot (no second render granted beside it) and its job.
    expect(await job(a.id)).toEqual(before.job);
    expect(await slot(a.id)).toEqual(before.slot);
    expect((await events(a.id)).length).toBe(before.events);
    // The attempt the row names writes; so does a caller with no token (the ended-run watch), and any attempt once a
    // row names none (sent back to its line).
    expect((await q<{ status: string }>(`SELECT status FROM fail_job($1, 'retry', false, NULL, 'new')`, [a.id]))[0]!.status).toBe('failed');
    expect(await slot(a.id)).toBeUndefined();
    const b = await enqueue();
    await wait(b.id);
    await grant();
    await q(`UPDATE automation_queue SET activity_token = NULL WHERE id = $1`, [b.id]);
    expect((await q<{ status: string }>(`SELECT status FROM complete_job($1, '{}'::jsonb, 1, 'any')`, [b.id]))[0]!.status).toBe(
      'completed',
    );
    const c = await enqueue();
    await wait(c.id);
    await q(`UPDATE automation_queue SET activity_token = 'new' WHERE id = $1`, [c.id]);
    expect((await q<{ left: boolean }>(`SELECT leave_line($1) AS left`, [c.id]))[0]!.left).toBe(true);
  });

  it('an attempt taken as lost writes nothing though its process lives on (0064): no fail, completion, park or paid submit', async () => {
    await clearLine();
    const a = await enqueue();
    await wait(a.id);
    await grant();
    // Its process's presence lock is gone (its listener's session dropped; the process itself lives on): taken as lost.
    await q(`UPDATE automation_queue SET activity_worker = 303, activity_token = 'b2xk', armed_submit_key = $2 WHERE id = $1`, [
      a.id,
      `${a.id}.0badc0de`,
    ]);
    const take = () => q<{ job_id: string; token: string }>(`SELECT job_id, token FROM take_lost_activities($1)`, [PRESENCE_LOCK_CLASS]);
    expect(await take()).toEqual([{ job_id: a.id, token: 'b2xk' }]);
    expect(await take()).toEqual([]);
    expect(await job(a.id)).toMatchObject({ activity_token: 'lost:b2xk', armed_submit_key: null });
    const before = { job: await job(a.id), slot: await slot(a.id), events: (await events(a.id)).length };
    const next = await enqueue();
    const stale = [
      `SELECT fail_job($1, 'stale', false, NULL, 'b2xk')`,
      `SELECT fail_job($1, 'stale', true, NULL, 'b2xk')`,
      `SELECT complete_job($1, '{"v": 1}'::jsonb, 1, 'b2xk')`,
      `SELECT complete_job_handing_over($1, '{"v": 1}'::jsonb, 1, '${next.id}', 12000, 'b2xk')`,
      `SELECT record_start('veo3', $1, true, NULL, '{}'::jsonb, 'b2xk')`,
    ];
    for (const statement of stale) await expect(q(statement, [a.id]), statement).rejects.toMatchObject({ code: 'RF409' });
    expect((await q<{ left: boolean }>(`SELECT leave_line($1, 'b2xk') AS left`, [a.id]))[0]!.left).toBe(false);
    // Nothing changed: its slot stays for the retry (no second render granted beside it), no submit marked.
    expect(await job(a.id)).toEqual(before.job);
    expect(await slot(a.id)).toEqual(before.slot);
    expect((await events(a.id)).length).toBe(before.events);
    // The retry marks the row (markActivity) and writes.
    await q(`UPDATE automation_queue SET activity_worker = 404, activity_token = 'cmV0cnk=' WHERE id = $1`, [a.id]);
    expect((await q<{ status: string }>(`SELECT status FROM complete_job($1, '{}'::jsonb, 1, 'cmV0cnk=')`, [a.id]))[0]!.status).toBe(
      'completed',
    );
  });
  it('record_provider_task, clear_submit_attempt and discard_provider_task write the handle and log each step', async () => {
    await clearLine();
    const a = await enqueue();
    await wait(a.id);
    await grant();
    await q(`SELECT claim_start('veo3', $1, true)`, [a.id]);
    expect((await job(a.id)).submit_attempted_at).not.toBeNull();
    await q(`SELECT clear_submit_attempt($1, 429)`, [a.id]);
    expect((await job(a.id)).submit_attempted_at).toBeNull();
    await expect(q(`SELECT record_provider_task($1, '', NULL)`, [a.id])).rejects.toThrow(/p_task_id must be a non-empty/);
    await q(`SELECT record_provider_task($1, 'task-1', 0.4)`, [a.id]);
    expect(await job(a.id)).toMatchObject({ provider_task_id: 'task-1', cost: '0.4000' });
    await q(`SELECT discard_provider_task($1, NULL)`, [a.id]);
    expect(await job(a.id)).toMatchObject({ provider_task_id: null, submit_attempted_at: null });
    // A handle only the heartbeat knew is still named by the event, so it is never resumed.
    await q(`SELECT discard_provider_task($1, 'task-from-heartbeat')`, [a.id]);
    const log = await events(a.id);
    expect(log.map((e) => e.event)).toEqual([
      'enqueued',
      'waiting',
      'started',
      'provider_call',
      'submit_refused',
      'submitted',
      'discarded',
      'discarded',
    ]);
    expect(log.filter((e) => e.event === 'discarded').map((e) => e.detail.providerTaskId)).toEqual(['task-1', 'task-from-heartbeat']);
  });

  it('reprioritise_workflow_jobs changes open jobs only and logs each', async () => {
    await clearLine();
    const a = await enqueue({ priority: 'P3' });
    expect((await q<{ n: number }>(`SELECT reprioritise_workflow_jobs($1, 'P0') AS n`, [a.workflowId]))[0]!.n).toBe(1);
    expect((await job(a.id)).priority).toBe('P0');
    await q(`UPDATE automation_queue SET status = 'completed' WHERE id = $1`, [a.id]);
    expect((await q<{ n: number }>(`SELECT reprioritise_workflow_jobs($1, 'P2') AS n`, [a.workflowId]))[0]!.n).toBe(0);
    expect((await events(a.id)).filter((e) => e.event === 'reprioritised')).toHaveLength(1);
  });

  it('the limits table feeds provider_limits: cancellable and submit_repeatable', async () => {
    const rows = await q<{ provider: string; cancellable: boolean; submit_repeatable: boolean }>(
      `SELECT provider, cancellable, submit_repeatable FROM provider_limits ORDER BY provider`,
    );
    expect(rows).toEqual([
      { provider: 'api_football', cancellable: true, submit_repeatable: true },
      { provider: 'assembly', cancellable: true, submit_repeatable: true },
      { provider: 'audio_fetch', cancellable: true, submit_repeatable: true },
      { provider: 'instagram', cancellable: true, submit_repeatable: true },
      { provider: 'instagram_graph', cancellable: true, submit_repeatable: true },
      { provider: 'openai', cancellable: true, submit_repeatable: true },
      { provider: 'tiktok', cancellable: true, submit_repeatable: false },
      { provider: 'tiktok_data', cancellable: true, submit_repeatable: true },
      { provider: 'veo3', cancellable: false, submit_repeatable: false },
      { provider: 'youtube', cancellable: true, submit_repeatable: false },
      { provider: 'youtube_data', cancellable: true, submit_repeatable: true },
    ]);
  });

  it('cancel_workflow_jobs holds the slot of an uncancellable paid task (per provider_limits) until release_followed_slot', async () => {
    await clearLine();
    const a = await enqueue({ estimate: 300 });
    await wait(a.id);
    await grant();
    await q(`SELECT record_provider_task($1, 'render-1', NULL)`, [a.id]);
    await q(`SELECT count(*) FROM cancel_workflow_jobs($1, 'operator')`, [a.workflowId]);
    const held = await slot(a.id);
    expect(held?.hold_until).not.toBeNull();
    const [view] = await q<Record<string, unknown>>(`SELECT * FROM held_slots WHERE job_id = $1`, [a.id]);
    expect(view).toMatchObject({ provider: 'veo3', job_status: 'cancelled', provider_task_id: 'render-1' });
    // The next job in line does not get the held slot's place while the render runs...
    await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    try {
      const b = await enqueue();
      await wait(b.id);
      expect((await grant()).granted).toEqual([]);
      // ...and gets it the moment the followed render ends.
      const released = (await q<{ r: { granted: string[] } }>(`SELECT release_followed_slot($1, 'succeeded') AS r`, [a.id]))[0]!.r;
      expect(released.granted).toEqual([b.id]);
      expect(await slot(a.id)).toBeUndefined();
      expect((await events(a.id)).map((e) => e.event).slice(-2)).toEqual(['cancelled', 'task_followed']);
      // Releasing twice (the render's end seen twice) is a no-op.
      expect((await q<{ r: unknown }>(`SELECT release_followed_slot($1, 'succeeded') AS r`, [a.id]))[0]!.r).toBeNull();
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });

  it('cancel_workflow_jobs frees at once the slot of a cancellable provider', async () => {
    await clearLine();
    const [j] = await q<{ id: string }>(
      `SELECT * FROM enqueue_job('wf-openai-cancel', 'analyze', 'openai_analysis', 'openai', 'P2', '{}'::jsonb, NULL, NULL, NULL, 10, 3)`,
    );
    await wait(j!.id);
    await grant('openai');
    await q(`SELECT record_provider_task($1, 'resp-1', NULL)`, [j!.id]);
    await q(`SELECT count(*) FROM cancel_workflow_jobs('wf-openai-cancel', 'operator')`);
    expect(await slot(j!.id)).toBeUndefined();
  });
});

describe('the durable line (0016)', () => {
  const park = async (id: string) => (await q<{ turn: string }>(`SELECT park_job($1) AS turn`, [id]))[0]!.turn;
  const callUp = async (recallMs = 10_000) =>
    q<{ job_id: string; granted: boolean }>(`SELECT job_id, granted FROM call_up_jobs($1)`, [recallMs]);

  it('parks all but the first few of a line, grants parked jobs in order, and calls each up once', async () => {
    await clearLine();
    // veo3 cap 2 here: its hot line is the first max(4, 2 x 2) = 4 jobs.
    const holders = [await enqueue(), await enqueue()];
    for (const h of holders) expect(await park(h.id)).toBe('granted');
    expect((await job(holders[0]!.id)).status).toBe('processing');
    const p3 = [];
    for (let i = 0; i < 6; i++) p3.push(await enqueue({ priority: 'P3' }));
    const turns = [];
    for (const j of p3) turns.push(await park(j.id));
    expect(turns).toEqual(['go', 'go', 'go', 'go', 'parked', 'parked']);
    // A parked job is in line with no heartbeat at all: the grant counts it.
    expect(await job(p3[4]!.id)).toMatchObject({ parked: true, status: 'queued' });
    expect((await job(p3[4]!.id)).waiting_since).not.toBeNull();

    // A P0 arriving behind them ranks first: it goes at once, and nobody is called up for it.
    const p0 = await enqueue({ priority: 'P0' });
    expect(await park(p0.id)).toBe('go');
    expect(await callUp()).toEqual([]);

    // The hot ones leave (their activities went silent): the next parked ones are called up, once each.
    await q(`UPDATE automation_queue SET last_heartbeat_at = now() - interval '1 minute' WHERE id = ANY($1)`, [
      p3.slice(0, 3).map((j) => j.id),
    ]);
    const called = await callUp();
    expect(called.map((c) => c.job_id).sort()).toEqual([p3[4]!.id, p3[5]!.id].sort());
    expect(called.every((c) => !c.granted)).toBe(true);
    expect(await callUp()).toEqual([]);
    // Still parked after the recall interval (a lost signal): called again.
    expect((await callUp(0)).map((c) => c.job_id).sort()).toEqual([p3[4]!.id, p3[5]!.id].sort());

    // A freed slot goes to the P0 (hot), the next one to the oldest live P3, and then to a parked job,
    // which is called up as granted.
    await q(`SELECT complete_job($1, 'null'::jsonb, NULL)`, [holders[0]!.id]);
    expect((await job(p0.id)).status).toBe('processing');
    await q(`SELECT complete_job($1, 'null'::jsonb, NULL)`, [holders[1]!.id]);
    expect((await job(p3[3]!.id)).status).toBe('processing');
    await q(`SELECT complete_job($1, 'null'::jsonb, NULL)`, [p0.id]);
    expect(await job(p3[4]!.id)).toMatchObject({ status: 'processing', parked: true });
    expect(await callUp(0)).toContainEqual({ job_id: p3[4]!.id, granted: true });
    // Its activity takes the slot: no longer parked, nobody calls it again.
    expect((await q<{ r: boolean }>(`SELECT resume_job($1, 1) AS r`, [p3[4]!.id]))[0]!.r).toBe(true);
    expect(await job(p3[4]!.id)).toMatchObject({ status: 'processing', parked: false });
    expect((await callUp(0)).map((c) => c.job_id)).not.toContain(p3[4]!.id);
  });

  it('puts a parked job back in line when its workflow never came for its slot, and parking again is idempotent', async () => {
    await clearLine();
    const a = await enqueue();
    const b = await enqueue();
    const c = await enqueue();
    await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    try {
      expect(await park(a.id)).toBe('granted');
      for (const j of [b, c]) await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [j.id]);
      await q(`SELECT complete_job($1, 'null'::jsonb, NULL)`, [a.id]);
      expect((await job(b.id)).status).toBe('processing');
      // The grant's lease lapses with nobody taking the slot: the next grant puts b back in line, and
      // (still first in line) grants it again rather than leaving it 'processing' with no slot.
      await q(`UPDATE provider_slots SET lease_expires_at = now() - interval '1 second' WHERE job_id = $1`, [b.id]);
      expect((await grant()).granted).toEqual([b.id]);
      expect(await job(b.id)).toMatchObject({ status: 'processing', parked: true });
      expect(await park(b.id)).toBe('granted');
      expect(await park(c.id)).toBe('go');
      expect(await park(c.id)).toBe('go');
      expect((await job(c.id)).status).toBe('queued');
      // A closed job goes (its activity reports it closed).
      await q(`SELECT count(*) FROM cancel_workflow_jobs($1, 'operator')`, [c.workflowId]);
      expect(await park(c.id)).toBe('go');
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });

  it('takes back a lapsed parked grant at the next call-up, with no other grant running (0017)', async () => {
    await clearLine();
    const a = await enqueue({ priority: 'P2' });
    await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    try {
      // Granted while parked; its workflow never comes for the slot.
      await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [a.id]);
      expect((await grant()).granted).toEqual([a.id]);
      expect(await callUp()).toEqual([{ job_id: a.id, granted: true }]);
      // A P0 joins behind it, parked too (every waiter parked: no worker's sweep grants for this provider).
      const p0 = await enqueue({ priority: 'P0' });
      await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [p0.id]);
      await q(`UPDATE provider_slots SET lease_expires_at = now() - interval '1 second' WHERE job_id = $1`, [a.id]);
      // The call-up itself runs the grant: a is back in line, and the slot goes to the P0, called up as granted.
      expect(await callUp(0)).toContainEqual({ job_id: p0.id, granted: true });
      expect(await job(a.id)).toMatchObject({ status: 'queued', parked: true });
      expect(await job(p0.id)).toMatchObject({ status: 'processing', parked: true });
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });

  it("sends hot jobs passed by more than two back to their workflows, never a granted job or an old deploy's (0021)", async () => {
    await clearLine();
    const returnToLine = async (ids: string[]) =>
      (await q<{ id: string }>(`SELECT id FROM return_to_line($1::uuid[]) AS id`, [ids])).map((r) => r.id).sort();
    const parkReturnable = async (id: string) => (await q<{ turn: string }>(`SELECT park_job($1, true) AS turn`, [id]))[0]!.turn;
    // veo3 cap 2: both slots taken, hot line 4: a waiting job ranked 7th or later goes back.
    const holders = [await enqueue(), await enqueue()];
    for (const h of holders) expect(await parkReturnable(h.id)).toBe('granted');
    const p3 = [];
    for (let i = 0; i < 4; i++) p3.push(await enqueue({ priority: 'P3' }));
    for (const j of p3.slice(0, 3)) expect(await parkReturnable(j.id)).toBe('go');
    // Parked by an older deploy's workflow (park_job without the flag): it cannot take its job back.
    expect(await park(p3[3]!.id)).toBe('go');
    // Their activities wait hot: in line, heartbeated.
    for (const j of p3) await q(`SELECT wait_for_slot($1, 1)`, [j.id]);
    const hot = p3.map((j) => j.id);
    expect(await returnToLine(hot)).toEqual([]);

    // Three P1s pass them: the P3s rank 4th to 7th; only the last is behind, and it is the old deploy's.
    const p1 = [];
    for (let i = 0; i < 3; i++) p1.push(await enqueue({ priority: 'P1' }));
    for (const j of p1) await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [j.id]);
    expect(await returnToLine(hot)).toEqual([]);
    // Two more: the P3s rank 6th to 9th: the 2nd and 3rd go back, parked, with a 'returned_to_line' event (the 2nd once
    // no longer taken as lost).
    for (let i = 0; i < 2; i++) {
      const j = await enqueue({ priority: 'P1' });
      await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [j.id]);
    }
    // The 2nd's attempt was taken as lost (0064): it stays, still named lost (erased, the lost attempt could write).
    await q(`UPDATE automation_queue SET activity_token = 'lost:eA==' WHERE id = $1`, [p3[1]!.id]);
    expect(await returnToLine(hot)).toEqual([p3[2]!.id]);
    expect(await job(p3[1]!.id)).toMatchObject({ parked: false, activity_token: 'lost:eA==' });
    await q(`UPDATE automation_queue SET activity_token = NULL WHERE id = $1`, [p3[1]!.id]);
    expect(await returnToLine(hot)).toEqual([p3[1]!.id]);
    expect(await job(p3[2]!.id)).toMatchObject({ status: 'queued', parked: true, called_up_at: null, activity_token: null });
    expect(await job(p3[3]!.id)).toMatchObject({ status: 'queued', parked: false });
    const events = await q<{ event: string }>(`SELECT event FROM job_events WHERE job_id = $1`, [p3[2]!.id]);
    expect(events.map((e) => e.event)).toContain('returned_to_line');
    // Once back, the same call sends nothing twice.
    expect(await returnToLine(hot)).toEqual([]);
    // One more P1 pushes the first P3 behind too, but it holds a slot (granted meanwhile): it stays.
    const last = await enqueue({ priority: 'P1' });
    await q(`UPDATE automation_queue SET waiting_since = now(), parked = true WHERE id = $1`, [last.id]);
    await q(
      `INSERT INTO provider_slots (job_id, provider, granted_at, lease_expires_at) VALUES ($1, 'veo3', now(), now() + interval '1 minute')`,
      [p3[0]!.id],
    );
    expect(await returnToLine(hot)).toEqual([]);
    await q(`DELETE FROM provider_slots WHERE job_id = $1`, [p3[0]!.id]);
    expect(await returnToLine(hot)).toEqual([p3[0]!.id]);
  });
});

describe('worker presence (0018)', () => {
  it("takes once the attempts of a process whose presence lock is gone, never a live one's or a closed job's", async () => {
    await clearLine();
    const live = await enqueue();
    const dead = await enqueue();
    const closed = await enqueue();
    // A live process: its listener session holds its presence lock.
    const session = new pg.Client({ connectionString: t.url });
    await session.connect();
    let ended = false;
    try {
      await takePresence(session, 101);
      const mark = (id: string, worker: number, token: string) =>
        q(`UPDATE automation_queue SET activity_worker = $2, activity_token = $3 WHERE id = $1`, [id, worker, token]);
      await mark(live.id, 101, 'bGl2ZQ==');
      await mark(dead.id, 202, 'ZGVhZA==');
      await mark(closed.id, 202, 'Y2xvc2Vk');
      await q(`UPDATE automation_queue SET status = 'completed' WHERE id = $1`, [closed.id]);
      const take = () => q<{ job_id: string; token: string }>(`SELECT job_id, token FROM take_lost_activities($1)`, [PRESENCE_LOCK_CLASS]);

      expect(await take()).toEqual([{ job_id: dead.id, token: 'ZGVhZA==' }]);
      expect(await take()).toEqual([]);
      const events = await q<{ event: string; detail: unknown }>(`SELECT event, detail FROM job_events WHERE job_id = $1`, [dead.id]);
      expect(events).toContainEqual({ event: 'worker_lost', detail: { worker: 202 } });

      // The live process's session ends (a kill -9 ends it the same way): its attempt is taken next, though a
      // watcher waiting on its key holds it in shared mode for an instant (0022).
      const watcher = new pg.Client({ connectionString: t.url });
      await watcher.connect();
      try {
        const waited = watcher.query(`SELECT pg_advisory_lock_shared($1, 101)`, [PRESENCE_LOCK_CLASS]);
        await session.end();
        ended = true;
        await waited;
        expect(await take()).toEqual([{ job_id: live.id, token: 'bGl2ZQ==' }]);
      } finally {
        await watcher.end();
      }
    } finally {
      if (!ended) await session.end();
    }
  });
});

describe('a heard task end frees the slot (0019)', () => {
  const KEY_NONCE = '0badc0de';
  const hear = async (taskId: string, key: string | null) =>
    (
      await q<{ jobs: number; learned: boolean; freed: string | null }>(
        `SELECT jobs, learned, freed
           FROM hear_callback('veo3', $1, $2, 200, '{"code":200}'::jsonb, 'reelflow_test_events', 'k', 'k#slot-freed', NULL)`,
        [taskId, key],
      )
    )[0]!;
  /** A running render: granted, its paid submit claimed with a callback key, its task recorded. */
  const rendering = async (taskId: string, workflowId?: string) => {
    const j = workflowId
      ? (
          await q<{ id: string }>(
            `SELECT * FROM enqueue_job($1, 'generate:1', 'veo3_chollo', 'veo3', 'P2', '{}'::jsonb, NULL, NULL, NULL, 300, 3)`,
            [workflowId],
          )
        )[0]!
      : await enqueue();
    await wait(j.id);
    await grant();
    const key = `${j.id}.${KEY_NONCE}`;
    await q(`SELECT claim_start('veo3', $1, true, $2)`, [j.id, key]);
    await q(`SELECT record_provider_task($1, $2, NULL)`, [j.id, taskId]);
    return { id: j.id, key };
  };
  const slotOf = async (id: string) => (await q(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [id])).length > 0;

  it('grants the next job in the callback, only for the task the key names, once; a retry resumes without a slot', async () => {
    await clearLine();
    await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    try {
      const a = await rendering('render-a');
      const b = await enqueue();
      await wait(b.id);
      expect((await grant()).granted).toEqual([]);

      // No key, another nonce, another task: the callback wakes the poller but frees nothing.
      expect(await hear('render-a', null)).toMatchObject({ jobs: 1, freed: null });
      expect(await hear('render-a', `${a.id}.ffffffff`)).toMatchObject({ jobs: 1, freed: null });
      expect(await hear('render-other', a.key)).toMatchObject({ jobs: 0, freed: null });
      expect(await slotOf(a.id)).toBe(true);

      // The right one: a's slot goes to b in the same transaction; a is still processing (its poller completes it).
      expect(await hear('render-a', a.key)).toMatchObject({ jobs: 1, learned: false, freed: a.id });
      expect(await slotOf(a.id)).toBe(false);
      expect(await slotOf(b.id)).toBe(true);
      expect(await job(a.id)).toMatchObject({ status: 'processing' });
      expect((await job(a.id)).task_ended_at).not.toBeNull();
      // A duplicate callback (KIE may send one) frees nothing more.
      expect(await hear('render-a', a.key)).toMatchObject({ jobs: 1, freed: null });

      // A retried attempt of a (its worker died before it completed) resumes at once, without taking a slot.
      expect((await q<{ r: boolean }>(`SELECT resume_job($1, 2) AS r`, [a.id]))[0]!.r).toBe(true);
      expect(await slotOf(a.id)).toBe(false);
      // complete_job finds no slot left to free; b keeps its own.
      await q(`SELECT complete_job($1, '{}'::jsonb, NULL)`, [a.id]);
      expect(await slotOf(b.id)).toBe(true);
      const events = (await q<{ event: string }>(`SELECT event FROM job_events WHERE job_id = $1 ORDER BY id`, [a.id])).map((e) => e.event);
      expect(events.filter((e) => e === 'task_end_heard')).toHaveLength(1);
      expect(events.slice(-2)).toEqual(['resumed', 'completed']);

      // A new task for the job (the old one discarded) forgets the heard end: a retry then needs a slot again.
      const c = await rendering('render-c');
      await hear('render-c', c.key);
      await q(`SELECT discard_provider_task($1, NULL)`, [c.id]);
      expect((await job(c.id)).task_ended_at).toBeNull();
      expect((await q<{ r: boolean }>(`SELECT resume_job($1, 2) AS r`, [c.id]))[0]!.r).toBe(false);
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });

  it("keeps the slot of a chained segment whose next segment waits (it takes the slot at the activity's complete)", async () => {
    await clearLine();
    const wf = `wf-chain-${++seq}`;
    const first = await rendering('render-seg-1', wf);
    await q(`SELECT * FROM enqueue_job($1, 'generate:2', 'veo3_chollo', 'veo3', 'P2', '{}'::jsonb, NULL, NULL, NULL, 300, 3)`, [wf]);
    expect(await hear('render-seg-1', first.key)).toMatchObject({ jobs: 1, freed: null });
    expect(await slotOf(first.id)).toBe(true);
  });

  it("takes the provider's lock before it touches a row (0024): a granter holding that lock can still take the job", async () => {
    await clearLine();
    const a = await rendering('render-lock');
    // A granter (complete_job, grant_slots) holds the provider's lock and goes for rows next.
    const granter = new pg.Client({ connectionString: t.url });
    await granter.connect();
    try {
      await granter.query('BEGIN');
      await granter.query(`SELECT lock_providers(ARRAY['veo3'])`);
      const heard = hear('render-lock', a.key);
      // pg_locks is the whole server's: only this database's waits (the other test files' run beside it).
      const waiting = `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                        WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted`;
      await expect.poll(async () => (await q(waiting)).length).toBe(1);
      // Before 0024 the waiting callback already held the job's row (its events' key share): this failed at once, and
      // a granter that waits for it instead is a deadlock.
      await granter.query(`SELECT 1 FROM automation_queue WHERE id = $1 FOR UPDATE NOWAIT`, [a.id]);
      await granter.query('COMMIT');
      expect(await heard).toMatchObject({ jobs: 1, freed: a.id });
    } finally {
      await granter.query('ROLLBACK').catch(() => undefined);
      await granter.end();
    }
  });
});

/**
 * A client as a pool whose queries all go to its one session (so a transaction's statistics count them all), one at a
 * time: the readers ask in parallel, and pg deprecates overlapping queries on a client.
 */
function oneSession(c: pg.Client): pg.Pool {
  let turn: Promise<unknown> = Promise.resolve();
  const query = (...args: unknown[]) => {
    const next = turn.then(() => (c.query as (...a: unknown[]) => Promise<unknown>)(...args));
    turn = next.catch(() => undefined);
    return next;
  };
  return { query } as unknown as pg.Pool;
}

describe('a year of history (0025, 0026)', () => {
  it('finds the task it names through the task index, not by reading every job ever run', async () => {
    // A year of this studio's finished renders.
    await q(
      `INSERT INTO automation_queue
         (priority, job_type, api_provider, estimated_duration_seconds, workflow_id, step, status, provider_task_id)
       SELECT 'P3', 'veo3_chollo', 'veo3', 300, 'history-' || g, 'generate', 'completed', 'history-task-' || g
         FROM generate_series(1, 20000) g`,
    );
    await q('ANALYZE automation_queue');
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      const [heard] = (
        await c.query(
          `SELECT jobs
             FROM hear_callback('veo3', 'history-task-777', NULL, 200, '{}'::jsonb, 'reelflow_test_events', 'k', 'k#slot-freed', NULL)`,
        )
      ).rows;
      expect(heard).toEqual({ jobs: 1 });
      // Scans made by this transaction so far: none of the table, one of the index.
      const { rows } = await c.query(
        `SELECT pg_stat_get_xact_numscans('automation_queue'::regclass)::int AS table_scans,
                pg_stat_get_xact_numscans('automation_queue_task_idx'::regclass)::int AS index_scans`,
      );
      expect(rows[0]).toEqual({ table_scans: 0, index_scans: 1 });
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
      await q(`DELETE FROM automation_queue WHERE workflow_id LIKE 'history-%'`);
    }
  });

  it("the dashboard's poll reads the last 24 hours and the open jobs, not every job ever run (0026)", async () => {
    // A year of finished jobs, each ended days ago, and one render finished an hour ago and one rendering now.
    await q(
      `INSERT INTO automation_queue (priority, job_type, api_provider, estimated_duration_seconds, workflow_id, step, status,
                                     cost, created_at, started_at, completed_at)
       SELECT 'P3', 'veo3_chollo', 'veo3', 300, 'history-' || g, 'generate', 'completed', 60,
              now() - make_interval(days => 2 + g % 365, secs => 600), now() - make_interval(days => 2 + g % 365, secs => 300),
              now() - make_interval(days => 2 + g % 365)
         FROM generate_series(1, 20000) g`,
    );
    await clearLine();
    const veo3Panel = async (db: pg.Pool, opts?: { costTotal: boolean }) =>
      (await providerPanels(db, undefined, opts)).find((p) => p.provider === 'veo3')!;
    // What earlier tests left: the two jobs below must each count once on top of it.
    const before = await veo3Panel(t.database.pool);
    const recent = await enqueue();
    await q(
      `UPDATE automation_queue SET status = 'completed', cost = 60, started_at = now() - interval '65 minutes',
                                   completed_at = now() - interval '1 hour' WHERE id = $1`,
      [recent.id],
    );
    const running = await enqueue();
    await q(`UPDATE automation_queue SET status = 'processing', started_at = now() WHERE id = $1`, [running.id]);
    // Every table, as autovacuum keeps them in production (CI's server runs without it): the slots table is tiny.
    await q('ANALYZE');
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      // One session, so the scans below are the dashboard's: the same reads as its poll, through a client.
      const veo3 = await veo3Panel(oneSession(c), { costTotal: false });
      expect(veo3).toMatchObject({ processing: before.processing + 1, completed24h: before.completed24h + 1, costTotal: null });
      // No read of the whole table, and a few rows read in all (the open ones, the last day's), of 20,000.
      const { rows } = await c.query(
        `SELECT seq_scan::int AS table_scans, (seq_tup_read + idx_tup_fetch)::int AS rows_read
           FROM pg_stat_xact_user_tables WHERE relname = 'automation_queue'`,
      );
      expect(rows[0].table_scans).toBe(0);
      expect(rows[0].rows_read).toBeLessThan(1_000);
      // Asked for (reports, metrics), the total still counts every job.
      expect(before.costTotal).toBeGreaterThanOrEqual(20_000 * 60);
      expect((await veo3Panel(oneSession(c))).costTotal).toBe(before.costTotal! + 60);
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
      await q(`DELETE FROM automation_queue WHERE workflow_id LIKE 'history-%'`);
    }
  });
});

describe("the dashboard's whole poll on a year of history (0032)", () => {
  it('reads the open jobs through an index: no read of every job ever run, by any of its parts', async () => {
    // A year of finished jobs, and open ones of every kind the job list and the calendar show.
    await q(
      `INSERT INTO automation_queue (priority, job_type, api_provider, estimated_duration_seconds, workflow_id, step, status,
                                     created_at, started_at, completed_at)
       SELECT 'P3', p || '_history', p, 300, 'history-' || g, 'generate', 'completed',
              now() - make_interval(days => 2 + g % 365, secs => 600), now() - make_interval(days => 2 + g % 365, secs => 300),
              now() - make_interval(days => 2 + g % 365)
         FROM generate_series(1, 100000) g,
              LATERAL (SELECT (ARRAY['openai', 'veo3', 'instagram', 'tiktok', 'youtube', 'assembly'])[1 + g % 6] AS p) x`,
    );
    await clearLine();
    const waiting = await enqueue({ priority: 'P1' });
    await wait(waiting.id);
    const running = await enqueue();
    const stuck = await enqueue();
    await q(`UPDATE automation_queue SET status = 'processing', started_at = now() WHERE id = $1`, [running.id]);
    await q(
      `UPDATE automation_queue SET status = 'processing', started_at = now() - interval '2 hours', stuck_since = now() WHERE id = $1`,
      [stuck.id],
    );
    await q('ANALYZE');
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      // One session, so the scans counted below are the poll's.
      const poll = await dashboardSnapshot(oneSession(c));
      // Every open job listed (the stuck one too: running_idx leaves it out) and drawn in the next 24 hours.
      expect(poll.jobs.map((j) => j.id).sort()).toEqual([waiting.id, running.id, stuck.id].sort());
      expect(poll.calendar.map((j) => j.id).sort()).toEqual([waiting.id, running.id, stuck.id].sort());
      // Blocks this transaction fetched from the table and each of its indexes, beside their sizes. Without 0032 the
      // job list and the calendar read all of one (the table, or line_idx for the job list's status, as here).
      const { rows } = await c.query<{ rel: string; blocks: number; pages: number }>(
        `SELECT x.oid::regclass::text AS rel, pg_stat_get_xact_blocks_fetched(x.oid)::int AS blocks,
                (pg_relation_size(x.oid) / 8192)::int AS pages
           FROM (SELECT 'automation_queue'::regclass::oid AS oid
                 UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = 'automation_queue'::regclass) x`,
      );
      const readWhole = rows.filter((r) => r.pages >= 100 && r.blocks >= r.pages);
      expect(rows.filter((r) => r.pages >= 100).length).toBeGreaterThanOrEqual(4);
      expect(readWhole).toEqual([]);
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
      await q(`DELETE FROM automation_queue WHERE workflow_id LIKE 'history-%'`);
      await clearLine();
    }
  });
});

describe('helpers planned once a session (0031)', () => {
  /**
   * PostgreSQL 15 plans a LANGUAGE sql function's body on every call it cannot inline (log_job_event: 44 µs a call,
   * 5.5 µs as PL/pgSQL). What may stay SQL: expressions the planner inlines; in_line, called row by row within one
   * statement, which plans it once for that statement; and what only reads and periodic sweeps call.
   */
  const STAYS_SQL = [
    'job_account',
    'submit_key_job',
    'presence_lock_class',
    // A constant the planner inlines, as presence_lock_class.
    'start_turn_grace_ms',
    'in_line',
    'get_available_capacity',
    'quota_state',
    'take_lost_activities',
    // Row by row within the stuck sweep's one statement (every 5 s) and the dashboard's read of the running jobs.
    'job_stuck_at',
  ];
  const TRANSITION_HELPERS = [
    'log_job_event',
    'latest_submit_key',
    'refund_quota',
    'lock_job_provider',
    'heartbeat_jobs',
    'report_quota',
    'hot_line_size',
  ];

  it('the helpers every job transition calls are PL/pgSQL, and no new SQL function slips in', async () => {
    const rows = await q<{ name: string; language: string }>(
      `SELECT p.proname AS name, l.lanname AS language
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'`,
    );
    const language = new Map(rows.map((r) => [r.name, r.language]));
    for (const name of TRANSITION_HELPERS) expect(language.get(name), name).toBe('plpgsql');
    expect(
      rows
        .filter((r) => r.language === 'sql')
        .map((r) => r.name)
        .sort(),
    ).toEqual([...STAYS_SQL].sort());
  });
});

describe('the hand-over keeps generic plans (0034)', () => {
  it('hear_callback and claim_start carry plan_cache_mode, which a later CREATE OR REPLACE must restate', async () => {
    const rows = await q<{ name: string; config: string[] | null }>(
      `SELECT p.proname AS name, p.proconfig AS config
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname IN ('hear_callback', 'claim_start')
        ORDER BY p.proname`,
    );
    expect(rows).toEqual([
      { name: 'claim_start', config: ['plan_cache_mode=force_generic_plan'] },
      { name: 'hear_callback', config: ['plan_cache_mode=force_generic_plan'] },
    ]);
  });
});
