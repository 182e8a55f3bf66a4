/**
 * A post's metrics read waits in its platform's read API line (instagram_graph, tiktok_data, youtube_data), not in
 * the publishing line, and a read enqueued before reads had lines of their own still runs in the line it was
 * enqueued in. Against real PostgreSQL, the gate and the simulators, in the SDK's mock activity environment.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsProviderActivities } from '../../src/activities/metrics';
import { enqueueJob } from '../../src/db/queries';
import { startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false, limits: { instagram_graph: { minStartIntervalMs: 0 } } });
}, 120_000);
afterAll(async () => h?.stop());

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];

/** Enqueues an Instagram read of a post the simulator knows, as the post's series does. */
async function instagramRead(name: string) {
  const postId = `1790${Date.now()}${Math.floor(Math.random() * 1_000)}`;
  h.sims.instagram.metrics.published(postId, Date.now() - 3_600_000);
  const job = await enqueueJob(h.db.database.pool, h.runtime.limits, {
    workflowId: `post-metrics-instagram-${name}`,
    step: 'metrics:3600',
    jobType: 'instagram_metrics',
    priority: 'P3',
    runId: 'run-1',
  });
  return { jobId: job.id, postId };
}

const read = (jobId: string, postId: string) =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 }).run(() =>
    createMetricsProviderActivities(h.runtime).readPostMetrics({ jobId, platform: 'instagram', postId }),
  );

/** Which provider's spacing clock the job's start moved, and the job's line. */
const lineOf = async (jobId: string) => ({
  line: (await q<{ p: string }>(`SELECT api_provider AS p FROM automation_queue WHERE id = $1`, [jobId]))[0]!.p,
  startedAt: (await q<{ p: string }>(`SELECT provider AS p FROM provider_limits WHERE last_start_job = $1`, [jobId])).map((r) => r.p),
});

describe('metrics reads', () => {
  it("wait in the read API's line, not the publishing line; one enqueued in the publishing line runs there", async () => {
    const fresh = await instagramRead('fresh');
    const reading = await read(fresh.jobId, fresh.postId);
    expect(reading).toMatchObject({ gone: false, metrics: { views: expect.any(Number) } });
    expect(await lineOf(fresh.jobId)).toEqual({ line: 'instagram_graph', startedAt: ['instagram_graph'] });

    // Enqueued by the code before this change: its row names the publishing line, and the read runs in it.
    const old = await instagramRead('old');
    await q(`UPDATE automation_queue SET api_provider = 'instagram' WHERE id = $1`, [old.jobId]);
    await q(`UPDATE provider_limits SET last_start_at = NULL WHERE provider = 'instagram'`);
    expect(await read(old.jobId, old.postId)).toMatchObject({ gone: false });
    expect(await lineOf(old.jobId)).toEqual({ line: 'instagram', startedAt: ['instagram'] });
    const statuses = await q<{ status: string }>(`SELECT status FROM automation_queue WHERE id = ANY($1) ORDER BY id`, [
      [fresh.jobId, old.jobId],
    ]);
    expect(statuses.map((s) => s.status)).toEqual(['completed', 'completed']);
  }, 60_000);
});
