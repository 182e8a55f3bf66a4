/**
 * Worker fleets on the real Temporal server: processes split by task queue, and
 * a fleet grown from 1 to 3 processes under load. Who ran what comes from each
 * process's own log ('job holds a slot' carries the job id and provider).
 */
import { afterEach, expect, it } from 'vitest';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker, type WorkerProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function harness(limits: Record<string, Record<string, number>>): Promise<Harness> {
  const h = await startHarness({ workers: false, limits });
  cleanups.push(() => h.stop());
  return h;
}
async function worker(env: Record<string, string>, queues: string[] = []): Promise<WorkerProcess> {
  const w = await spawnWorker(env, queues);
  cleanups.push(() => w.kill('SIGKILL'));
  return w;
}
/** The jobs a worker process held a provider slot for, from its JSON log lines. */
function heldJobs(w: WorkerProcess): Array<{ jobId: string; provider: string }> {
  const held = [];
  for (const line of w.lines) {
    if (!line.includes('job holds a slot')) continue;
    const { jobId, provider } = JSON.parse(line) as { jobId: string; provider: string };
    held.push({ jobId, provider });
  }
  return held;
}
const allJobs = async (h: Harness) =>
  (await h.db.database.pool.query<{ id: string; attempts: number; status: string }>(`SELECT id, attempts, status FROM automation_queue`))
    .rows;
const startedEvents = async (h: Harness) =>
  (await h.db.database.pool.query<{ job_id: string }>(`SELECT job_id FROM job_events WHERE event = 'started'`)).rows.map((r) => r.job_id);

it('three worker processes serving different queues carry recommendations to published, each doing only its own queues', async () => {
  const h = await harness({});
  const base = await worker(h.childEnv, ['base']);
  // Rendering and archiving the render (the archive runs on the assembly queue).
  const generate = await worker(h.childEnv, ['openai', 'veo3', 'assembly']);
  const publish = await worker(h.childEnv, ['instagram', 'tiktok', 'youtube']);
  const recs = [];
  for (let i = 0; i < 3; i++) recs.push(await h.service.enqueue(recommendationInput({ title: `split queues ${i}` })));
  const results = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
  expect(results.map((r) => r.status)).toEqual(['published', 'published', 'published']);

  expect(heldJobs(base)).toEqual([]);
  expect(new Set(heldJobs(generate).map((j) => j.provider))).toEqual(new Set(['openai', 'veo3']));
  expect(new Set(heldJobs(publish).map((j) => j.provider))).toEqual(new Set(['instagram', 'tiktok', 'youtube']));
  const held = [...heldJobs(generate), ...heldJobs(publish)].map((j) => j.jobId);
  const jobs = await allJobs(h);
  expect(held.sort()).toEqual(jobs.map((j) => j.id).sort());
  expect(jobs.every((j) => j.status === 'completed' && j.attempts === 1)).toBe(true);
  expect(h.sims.veo3.stats().submissions).toBe(3);
});

it('a fleet scaled from 1 to 3 processes under load: the new processes take work, no job is seen twice', async () => {
  const JOBS = 12;
  const h = await harness({ veo3: { maxConcurrent: 3, pollIntervalMs: 50 } });
  h.sims.veo3.setFaults({ taskDurationMs: 4_000 });
  // Two activities per queue and process: one process cannot take the whole load, so added ones must.
  const env = { ...h.childEnv, REELFLOW_WORKER_ACTIVITY_SLOTS: '2' };
  const fleet = [await worker(env)];
  const recs: Array<{ workflowId: string }> = [];
  const enqueue = async (n: number) => {
    for (let i = 0; i < n; i++)
      recs.push(await h.service.enqueue(recommendationInput({ title: `fleet ${recs.length}`, jobConfig: { platforms: ['instagram'] } })));
  };
  await enqueue(JOBS / 2);
  await waitUntil(async () => h.sims.veo3.stats().submissions >= 1, { what: 'the first render under way on one process' });
  // The fleet grows while the first half is in flight; the second half arrives once the new processes poll
  // (starting one takes seconds to minutes on a loaded machine, the first half alone may be done by then).
  fleet.push(...(await Promise.all([worker(env), worker(env)])));
  await enqueue(JOBS / 2);
  const results = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
  expect(results.every((r) => r.status === 'published')).toBe(true);

  const perProcess = fleet.map((w) => heldJobs(w).map((j) => j.jobId));
  const held = perProcess.flat();
  const jobs = await allJobs(h);
  expect(jobs).toHaveLength(JOBS * 3); // brief, video, Instagram post per recommendation
  expect(new Set(held).size).toBe(held.length);
  expect(held.sort()).toEqual(jobs.map((j) => j.id).sort());
  expect(jobs.every((j) => j.status === 'completed' && j.attempts === 1)).toBe(true);
  expect((await startedEvents(h)).sort()).toEqual(jobs.map((j) => j.id).sort());
  expect(h.sims.veo3.stats().submissions).toBe(JOBS);
  expect(perProcess[1]!.length + perProcess[2]!.length).toBeGreaterThan(0);
}, 240_000); // three worker processes start (bundling workflows) on a shared 2-core machine
