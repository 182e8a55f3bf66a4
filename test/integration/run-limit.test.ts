/**
 * A provider job's 2x-estimate bound counts its work, not its wait for a start (src/activities/run-limit.ts): a
 * post's metrics read waited over 20 s behind Instagram's 5 s spacing among 3 slot holders and failed as
 * 'still running' with a 10 s estimate. Against real PostgreSQL and the gate, in the SDK's mock activity environment.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProviderJob } from '../../src/activities/provider-job';
import { sleep } from '../../src/shared/sleep';
import { startHarness, type Harness } from '../helpers/harness';
import { enqueueVeo3Job } from '../helpers/test-db';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
}, 120_000);
afterAll(async () => h?.stop());

const q = (text: string, params: unknown[] = []) => h.db.database.pool.query(text, params);

/** A VEO3 job estimated at 1 s (bound 2 s) whose one provider call takes `workMs`, the last start `sinceStartMs` ago. */
async function run(name: string, workMs: number) {
  const jobId = await enqueueVeo3Job(h.db.database.pool, name);
  await q(`UPDATE automation_queue SET estimated_duration_seconds = 1 WHERE id = $1`, [jobId]);
  // The provider's spacing: 3 s between starts, the last one just now, so this job's call waits about 3 s to leave.
  await q(`UPDATE provider_limits SET min_start_interval_ms = 3000, last_start_at = clock_timestamp() WHERE provider = 'veo3'`);
  const started = Date.now();
  const outcome = await new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 })
    .run(() =>
      runProviderJob(h.runtime, jobId, 'veo3', async (ctx) => {
        const value = await ctx.call(async () => {
          // As a provider request does, the work stops when the attempt's signal aborts.
          await sleep(workMs, ctx.signal);
          return 'read';
        });
        return { value };
      }),
    )
    .then(
      (value) => ({ value }),
      (err: Error) => ({ error: err.message }),
    );
  return { ...outcome, ms: Date.now() - started };
}

describe('the 2x-estimate bound', () => {
  it('does not count the wait for the provider start spacing, and still bounds the work', { timeout: 60_000 }, async () => {
    const waited = await run('wf-limit-spacing', 200);
    expect(waited).toMatchObject({ value: 'read' });
    expect(waited.ms).toBeGreaterThanOrEqual(2_900); // it did wait out the spacing, past its 2 s bound

    const slow = await run('wf-limit-work', 2_600);
    expect(slow).toMatchObject({ error: expect.stringContaining('still running after 2x its estimate (2000 ms)') });
  });

  it(
    'stopping a paid task at the bound keeps its slot for the next attempt: the task still runs at the provider',
    { timeout: 60_000 },
    async () => {
      const jobId = await enqueueVeo3Job(h.db.database.pool, 'wf-limit-paid');
      await q(`UPDATE automation_queue SET estimated_duration_seconds = 1 WHERE id = $1`, [jobId]);
      await q(`UPDATE provider_limits SET min_start_interval_ms = 0 WHERE provider = 'veo3'`);
      const outcome = await new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 })
        .run(() =>
          runProviderJob(h.runtime, jobId, 'veo3', async (ctx) => {
            await ctx.submitOnce(async () => 'kie-task-slow');
            // The render outlasts the job's bound (2 s) at the provider.
            await sleep(3_000, ctx.signal);
            return { value: 'done' };
          }),
        )
        .catch((err: Error) => err.message);
      expect(outcome).toContain('still running after 2x its estimate');
      // Freed, the slot went to the next job in line while this task still ran at KIE: the cap broken.
      const { rows } = await q(
        `SELECT hold_until > clock_timestamp() + interval '1 minute' AS held FROM provider_slots WHERE job_id = $1`,
        [jobId],
      );
      expect(rows).toEqual([{ held: true }]);
      await q(`DELETE FROM provider_slots WHERE job_id = $1`, [jobId]);
    },
  );
});
