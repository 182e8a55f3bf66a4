/**
 * kill -9 of the Temporal server itself (the real server on PostgreSQL, not the
 * dev server) in the middle of VEO3 renders: its state is in PostgreSQL, so after
 * a restart every workflow finishes, none is lost or run twice, and no video is
 * paid for twice. Its own server and databases: the run's shared server stays up.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startTemporalCluster, type TemporalCluster } from '../../src/dev/temporal-cluster';
import { sleep } from '../../src/shared/sleep';
import { recommendationInput, startHarness } from '../helpers/harness';
import { spawnWorker } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

let cluster: TemporalCluster;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  // Ports 7453-7462: clear of the run's cluster (7433-7442), the dev test server (7833) and faults.test.ts's 7933.
  cluster = await startTemporalCluster({
    port: 7453,
    dbPrefix: 'temporal_test_kill',
    sqlMaxConns: 3,
    logFile: '/tmp/reelflow-test-cluster-kill.log',
  });
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
afterAll(async () => {
  await cluster?.stop();
});

it('kill -9 of the Temporal server mid-render, then a restart: 0 workflows lost, 0 renders repeated', async () => {
  const h = await startHarness({ workers: false, temporalAddress: cluster.address, limits: { veo3: { pollIntervalMs: 100 } } });
  cleanups.push(() => h.stop());
  h.sims.veo3.setFaults({ taskDurationMs: 4_000 });
  const w = await spawnWorker(h.childEnv);
  cleanups.push(() => w.kill('SIGKILL'));
  const recs = [];
  for (let i = 0; i < 4; i++)
    recs.push(await h.service.enqueue(recommendationInput({ title: `server kill ${i}`, jobConfig: { platforms: ['instagram'] } })));
  const rendering = async () =>
    (await h.db.database.pool.query(`SELECT 1 FROM automation_queue WHERE step = 'generate' AND provider_task_id IS NOT NULL`)).rowCount ??
    0;
  await waitUntil(async () => (await rendering()) >= 1, { what: 'a VEO3 render under way' });
  await cluster.kill();
  expect(cluster.process()?.signalCode).toBe('SIGKILL');
  await sleep(2_000);
  await cluster.restart();

  const results = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
  expect(results.map((r) => r.status)).toEqual(['published', 'published', 'published', 'published']);
  expect(h.sims.veo3.stats().submissions).toBe(4);
  expect(w.alive()).toBe(true);
  for (const r of recs) {
    const runs = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${r.workflowId}'` })) runs.push(wf);
    expect(runs).toHaveLength(1);
  }
  const rows = await h.db.database.pool.query(`SELECT status FROM competitive_recommendations`);
  expect(rows.rows.map((r) => r.status)).toEqual(['published', 'published', 'published', 'published']);
});
