/**
 * SlotGate.claimStart on a loaded process, against real PostgreSQL: a start
 * claimed long before its request can leave is claimed again, so the next
 * start is spaced from when the request really leaves. No Temporal involved.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { effectiveLimits } from '../../src/config/env';
import { SlotGate } from '../../src/gate/slot-gate';
import { createTestDatabase, enqueueVeo3Job, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await t.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  t = await createTestDatabase(effectiveLimits({ REELFLOW_LIMITS: { veo3: { minStartIntervalMs: 300 } } }));
});
afterAll(async () => t?.drop());
beforeEach(() => q(`UPDATE provider_limits SET last_start_at = NULL, last_start_job = NULL WHERE provider = 'veo3'`));

/** Blocks this process for `ms` (what a busy event loop does to a request about to leave). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/**
 * A gate whose first `claim_start` answer reaches it `lagMs` late (then `onLag` runs), and the log lines it
 * writes; with failReclaims, every later claim_start fails (the database went away).
 */
function gateWithLag(lagMs: number, opts: { onLag?: () => void; failReclaims?: boolean } = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  let claims = 0;
  const pool = {
    query: async (text: string, params: unknown[]) => {
      const claim = text.includes('claim_start');
      if (claim && ++claims > 1 && opts.failReclaims) throw new Error('Connection terminated unexpectedly');
      const result = await t.database.pool.query(text, params);
      if (claim && claims === 1) {
        busy(lagMs);
        opts.onLag?.();
      }
      return result;
    },
  } as unknown as pg.Pool;
  return { gate: new SlotGate(pool, t.url, log), lines };
}

const enqueue = (workflowId: string) => enqueueVeo3Job(t.database.pool, workflowId);

const spacingClock = async () =>
  (
    await q<{ at: Date; job: string }>(`SELECT last_start_at AS at, last_start_job AS job FROM provider_limits WHERE provider = 'veo3'`)
  )[0]!;
const calls = async (jobId: string) =>
  q<{ at: Date }>(`SELECT created_at AS at FROM job_events WHERE job_id = $1 AND event = 'provider_call'`, [jobId]);

describe('claimStart', () => {
  it('claims again when the request could not leave within half the margin, spacing the next start from then', async () => {
    const jobId = await enqueue('wf-late');
    const { gate, lines } = gateWithLag(150);
    await gate.claimStart(jobId, 'veo3', { markSubmit: true });
    const leftAt = Date.now();

    const [call] = await calls(jobId);
    const clock = await spacingClock();
    expect(clock.job).toBe(jobId);
    // The spacing clock is the moment the request could leave, not the claim 150 ms before it.
    expect(clock.at.getTime() - call!.at.getTime()).toBeGreaterThanOrEqual(150);
    expect(Math.abs(leftAt - clock.at.getTime())).toBeLessThan(50);
    // One call, one submit mark: the refresh records nothing else.
    expect(await calls(jobId)).toHaveLength(1);
    // Claimed again (once more if the re-claim itself came back late on a busy machine).
    expect(lines[0]).toEqual(
      expect.objectContaining({ jobId, provider: 'veo3', refreshes: 1, msg: expect.stringContaining('claiming it again') }),
    );
    expect(lines[0]!.lateMs).toBeGreaterThanOrEqual(150);

    // The next start waits the interval (and margin) from that moment.
    const next = await enqueue('wf-next');
    const { gate: other } = gateWithLag(0);
    await other.claimStart(next, 'veo3');
    const [nextCall] = await calls(next);
    expect(nextCall!.at.getTime() - clock.at.getTime()).toBeGreaterThanOrEqual(400);
  });

  it('once claimed, sends whatever happens: a stop signal or a failed re-claim does not hold back a marked submit', async () => {
    // The claim marked the submit as leaving: a request kept back now would make the next attempt believe
    // it went out unanswered (SubmitOutcomeUnknown), and never submit again.
    const stop = new AbortController();
    const stopped = gateWithLag(150, { onLag: () => stop.abort(new Error('worker shutting down')) });
    const stoppedJob = await enqueue('wf-stopped');
    await expect(stopped.gate.claimStart(stoppedJob, 'veo3', { markSubmit: true, signal: stop.signal })).resolves.toBeUndefined();
    expect(stopped.lines[0]).toEqual(expect.objectContaining({ jobId: stoppedJob, refreshes: 1 }));

    await q(`UPDATE provider_limits SET last_start_at = NULL, last_start_job = NULL WHERE provider = 'veo3'`);
    const broken = gateWithLag(150, { failReclaims: true });
    const brokenJob = await enqueue('wf-broken');
    await expect(broken.gate.claimStart(brokenJob, 'veo3', { markSubmit: true })).resolves.toBeUndefined();
    expect(broken.lines.map((l) => l.msg)).toEqual([
      expect.stringContaining('claiming it again'),
      expect.stringContaining('the request leaves as first claimed'),
    ]);
  });

  it("allows half of the provider's own margin, not the default's", async () => {
    await q(`UPDATE provider_limits SET start_margin_ms = 20 WHERE provider = 'veo3'`);
    try {
      const jobId = await enqueue('wf-tight');
      const { gate, lines } = gateWithLag(30);
      await gate.claimStart(jobId, 'veo3');
      // 30 ms late is within the default's half (50 ms), not this provider's (10 ms). On a busy machine the
      // re-claim itself may take over 10 ms too, and be made again.
      expect(lines[0]).toEqual(expect.objectContaining({ jobId, refreshes: 1 }));
    } finally {
      await q(`UPDATE provider_limits SET start_margin_ms = 100 WHERE provider = 'veo3'`);
    }
  });

  it('claims once when the answer comes back in time', async () => {
    const jobId = await enqueue('wf-prompt');
    const { gate, lines } = gateWithLag(0);
    await gate.claimStart(jobId, 'veo3', { markSubmit: true });
    const [call] = await calls(jobId);
    const clock = await spacingClock();
    // A busy machine may still make an answer late on its own: only a real lateness (over 50 ms) claims again.
    for (const line of lines) expect(line.lateMs).toBeGreaterThan(50);
    if (lines.length === 0) expect(clock.at.getTime() - call!.at.getTime()).toBeLessThan(5);
  });
});
