/**
 * A provider job's heartbeats (src/activities/provider-job.ts), against real PostgreSQL and the gate: an attempt done
 * within the heartbeat interval sends none (the SDK sends an attempt's first heartbeat at once, a Temporal request
 * each analysis of a fill used to make for nothing), and one that runs longer beats every interval, so a cancel
 * still reaches it. The activity runs in the SDK's mock environment, which reports every heartbeat it is given.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { runProviderJob } from '../../src/activities/provider-job';
import { sleep } from '../../src/shared/sleep';
import { startHarness, type Harness } from '../helpers/harness';
import { enqueueVeo3Job } from '../helpers/test-db';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** Runs a provider job whose work takes `workMs`; returns its value and when each heartbeat was given, from its start. */
async function run(h: Harness, jobId: string, workMs: number) {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
  const beats: number[] = [];
  const started = Date.now();
  env.on('heartbeat', () => beats.push(Date.now() - started));
  const value = await env.run(() =>
    runProviderJob(h.runtime, jobId, 'veo3', async () => {
      await sleep(workMs);
      return { value: 'rendered' };
    }),
  );
  return { value, beats };
}

describe('provider job heartbeats', () => {
  it('none for an attempt done within the interval; one a second for a longer one', { timeout: 60_000 }, async () => {
    const h = await startHarness({ workers: false });
    cleanups.push(() => h.stop());

    const quick = await run(h, await enqueueVeo3Job(h.db.database.pool, 'wf-beats-quick'), 300);
    expect(quick.value).toBe('rendered');
    expect(quick.beats).toEqual([]);

    const long = await run(h, await enqueueVeo3Job(h.db.database.pool, 'wf-beats-long'), 2_600);
    expect(long.value).toBe('rendered');
    // Every second (min(1 s, a quarter of the heartbeat timeout)), the first a second in, not at the start.
    expect(long.beats.length).toBeGreaterThanOrEqual(2);
    expect(long.beats[0]).toBeGreaterThanOrEqual(900);

    const status = await h.db.database.pool.query<{ status: string }>(
      `SELECT status FROM automation_queue WHERE workflow_id IN ('wf-beats-quick', 'wf-beats-long') ORDER BY workflow_id`,
    );
    expect(status.rows.map((r) => r.status)).toEqual(['completed', 'completed']);
  });
});
