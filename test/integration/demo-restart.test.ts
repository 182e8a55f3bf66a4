/**
 * `npm start`, Ctrl-C, `npm start` again: the workers stop gracefully and the
 * simulators stop with them, then both come back. The simulators keep their
 * provider state on disk (as KIE and the platforms keep theirs while we are
 * down), so the interrupted render and the interrupted publish are found again:
 * published everywhere, one render, one post per platform.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker, type WorkerProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function worker(h: Harness): Promise<WorkerProcess> {
  const w = await spawnWorker(h.childEnv);
  cleanups.push(() => w.kill('SIGKILL'));
  return w;
}

const job = async (h: Harness, recommendationId: string, step: string) =>
  (
    await h.db.database.pool.query<{ provider_task_id: string | null; status: string }>(
      'SELECT provider_task_id, status FROM automation_queue WHERE recommendation_id = $1 AND step = $2',
      [recommendationId, step],
    )
  ).rows[0];

describe('demo restart', () => {
  it('Ctrl-C mid-render and again mid-publish: each start resumes; one render and one post per platform', async () => {
    const h = await startHarness({
      workers: false,
      simulatorStateDir: mkdtempSync(path.join(os.tmpdir(), 'reelflow-sims-')),
      limits: { veo3: { pollIntervalMs: 100 }, tiktok: { pollIntervalMs: 100 }, youtube: { pollIntervalMs: 100 } },
    });
    cleanups.push(() => h.stop());
    h.sims.veo3.setFaults({ taskDurationMs: 6_000 });
    let w = await worker(h);
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ jobConfig: { platforms: ['instagram', 'tiktok', 'youtube'] } }),
    );
    await waitUntil(async () => (await job(h, recommendation.id, 'generate'))?.provider_task_id, { what: 'VEO3 render submitted' });

    // Ctrl-C during the render.
    await w.kill('SIGINT');
    await h.restartSimulators();
    // Publishing takes long enough to be interrupted too.
    h.sims.tiktok.setFaults({ taskDurationMs: 6_000 });
    w = await worker(h);
    await waitUntil(async () => (await job(h, recommendation.id, 'publish:tiktok'))?.provider_task_id, {
      timeoutMs: 60_000,
      what: 'TikTok publish submitted after the first restart',
    });

    // Ctrl-C during the TikTok publish.
    await w.kill('SIGINT');
    await h.restartSimulators();
    await worker(h);

    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    // The counters were kept across both restarts: these are totals.
    expect(h.sims.veo3.stats().submissions).toBe(1);
    expect(h.sims.tiktok.stats().submissions).toBe(1);
    expect(h.sims.instagram.stats().submissions).toBe(1);
    expect(h.sims.youtube.stats().submissions).toBe(1);
  }, 180_000);
});
