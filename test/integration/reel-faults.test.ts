/**
 * Reels under real faults, with worker processes killed -9 on the real Temporal
 * server: mid-render of segment 3 (segments 1-2 are not paid again, 3 resumes
 * its task) and mid-assembly (assembly runs again, nothing is rendered again).
 * And strict priority across reels: a P0 reel's segments take the next VEO3
 * slots ahead of every waiting P3 segment.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probe } from '../helpers/probe';
import { sleep } from '../../src/shared/sleep';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker, type WorkerProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const REEL_ENV = { REELFLOW_REEL_MODE: 'chained', REELFLOW_REEL_SECONDS: '32' };

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ workers: false, ...opts, env: { ...REEL_ENV, ...opts.env } });
  cleanups.push(() => h.stop());
  return h;
}
async function worker(h: Harness, queues: string[]): Promise<WorkerProcess> {
  const w = await spawnWorker(h.childEnv, queues);
  cleanups.push(() => w.kill('SIGKILL'));
  return w;
}
/** kill -9 of a worker and of what it spawned (ffmpeg), as when its container dies. */
async function killHard(w: WorkerProcess): Promise<void> {
  let listed = '';
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(w.child.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the worker has no children.
  }
  const children = listed
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((pid) => pid > 0);
  await w.kill('SIGKILL');
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

type JobRow = { id: string; step: string; status: string; attempts: number; provider_task_id: string | null; started_at: Date | null };
const q = async <T>(h: Harness, text: string, params: unknown[] = []) => (await h.db.database.pool.query(text, params)).rows as T[];
const jobOf = async (h: Harness, recId: string, step: string) =>
  (await q<JobRow>(h, `SELECT * FROM automation_queue WHERE recommendation_id = $1 AND step = $2`, [recId, step]))[0];
const eventsOf = async (h: Harness, jobId: string) =>
  (await q<{ event: string }>(h, `SELECT event FROM job_events WHERE job_id = $1 ORDER BY id`, [jobId])).map((e) => e.event);

async function expectReel(h: Harness, recId: string) {
  const p = await probe(path.join(h.env.REELFLOW_MEDIA_DIR, recId, 'final.mp4'));
  expect(Number(p.format.duration)).toBeCloseTo(32, 0);
  expect(p.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 1080, height: 1920 });
  expect(p.streams.some((s) => s.codec_type === 'audio')).toBe(true);
}

describe('a reel through worker deaths', () => {
  it('kill -9 during segment 3: segments 1-2 are not paid again, 3 resumes its task, four renders in all', async () => {
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 5_000 });
    await worker(h, ['base', 'openai', 'youtube', 'assembly']);
    const doomed = await worker(h, ['veo3']);
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['youtube'] } }));
    const third = await waitUntil(async () => (await jobOf(h, recommendation.id, 'generate:3'))?.provider_task_id, {
      timeoutMs: 60_000,
      what: 'segment 3 submitted',
    });
    await sleep(500); // mid-render
    await killHard(doomed);
    expect(h.sims.veo3.stats().submissions).toBe(3);
    await worker(h, ['veo3']);

    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(4);
    for (const step of ['generate:1', 'generate:2']) {
      const job = (await jobOf(h, recommendation.id, step))!;
      expect(job).toMatchObject({ status: 'completed', attempts: 1 });
      expect(await eventsOf(h, job.id)).not.toContain('resumed');
    }
    const resumed = (await jobOf(h, recommendation.id, 'generate:3'))!;
    expect(resumed).toMatchObject({ status: 'completed', attempts: 2, provider_task_id: third });
    expect(await eventsOf(h, resumed.id)).toContain('resumed');
    // Segment 4 extends the resumed task, not a new one.
    expect(result.segments![2]!.taskId).toBe(third);
    await expectReel(h, recommendation.id);
  });

  it('kill -9 during assembly: assembly runs again on another worker and nothing is rendered again', async () => {
    const h = await harness();
    await worker(h, ['base', 'openai', 'veo3', 'youtube']);
    const doomed = await worker(h, ['assembly']);
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['youtube'] } }));
    await waitUntil(async () => (await jobOf(h, recommendation.id, 'assemble'))?.started_at, {
      timeoutMs: 60_000,
      what: 'assembly started',
    });
    // ffmpeg is encoding by now: the clips are local, the encode takes seconds.
    await waitUntil(async () => doomed.lines.some((l) => l.includes('holds a slot')), { what: 'assembly holding its slot' });
    await sleep(1_500);
    expect(h.sims.veo3.stats().submissions).toBe(4);
    await killHard(doomed);
    await worker(h, ['assembly']);

    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(4);
    expect(await jobOf(h, recommendation.id, 'assemble')).toMatchObject({ status: 'completed', attempts: 2 });
    for (let i = 1; i <= 4; i++)
      expect(await jobOf(h, recommendation.id, `generate:${i}`)).toMatchObject({ status: 'completed', attempts: 1 });
    await expectReel(h, recommendation.id);
  });
});

type Step = { priority: string; event: string; at: Date; job_id: string };
/** When each segment job joined VEO3's line, was handed a slot and started, from its events. */
const segmentSteps = (h: Harness) =>
  q<Step>(
    h,
    `SELECT j.priority, e.event, e.created_at AS at, e.job_id FROM job_events e JOIN automation_queue j ON j.id = e.job_id
      WHERE j.step LIKE 'generate:%' AND e.event IN ('waiting', 'started', 'handed_over') ORDER BY e.id`,
  );

describe('reels and priority', () => {
  it("a P0 reel's segments start ahead of every P3 segment waiting in VEO3's line", async () => {
    const h = await harness({
      workers: true,
      env: { REELFLOW_REEL_MODE: 'independent' },
      limits: { veo3: { maxConcurrent: 2, pollIntervalMs: 25 } },
    });
    h.sims.veo3.setFaults({ taskDurationMs: 1_500 });
    const backlog: Array<{ workflowId: string }> = [];
    for (let i = 0; i < 3; i++) backlog.push(await h.service.enqueue(recommendationInput({ priority: 'P3', title: `Relleno ${i + 1}` })));
    cleanups.push(() => Promise.all(backlog.map((b) => h.client.workflow.getHandle(b.workflowId).terminate('test over'))));
    const steps = () => segmentSteps(h);
    const count = (rows: Step[], priority: string, event: string) =>
      new Set(rows.filter((r) => r.priority === priority && r.event === event).map((r) => r.job_id)).size;
    // Twelve P3 segments: two render, the rest wait in line.
    await waitUntil(
      async () => {
        const rows = await steps();
        return count(rows, 'P3', 'waiting') - count(rows, 'P3', 'started') >= 6;
      },
      { timeoutMs: 60_000, what: 'P3 segments waiting' },
    );
    const urgent = await h.service.enqueue(recommendationInput({ priority: 'P0', title: 'Última hora' }));
    cleanups.push(() => h.client.workflow.getHandle(urgent.workflowId).terminate('test over'));
    await waitUntil(async () => count(await steps(), 'P0', 'started') === 4, { timeoutMs: 60_000, what: 'the four P0 segments started' });
    const rows = await steps();
    const of = (priority: string, event: string) => rows.filter((r) => r.priority === priority && r.event === event);
    const joined = Math.min(...of('P0', 'waiting').map((r) => r.at.getTime()));
    const lastStart = Math.max(...of('P0', 'started').map((r) => r.at.getTime()));
    // No P3 segment started between the P0 reel joining the line and its last segment starting.
    const overtook = of('P3', 'started').filter((r) => r.at.getTime() > joined && r.at.getTime() < lastStart);
    expect(overtook).toEqual([]);
    // And P3 segments were there to overtake: some were still waiting when the last P0 segment started.
    const p3Waiting = count(rows, 'P3', 'waiting') - of('P3', 'started').filter((r) => r.at.getTime() <= lastStart).length;
    expect(p3Waiting).toBeGreaterThan(0);
    // Two slots, 1.5 s renders: the four P0 segments took the next four releases.
    expect(lastStart - joined).toBeLessThan(3 * 1_500 + 2_000);
  });

  it("chained: each P0 segment's slot goes straight to the next segment, never to a P3 waiting in line", async () => {
    const h = await harness({ workers: true, limits: { veo3: { maxConcurrent: 1, pollIntervalMs: 25 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 1_200 });
    // Three chained P3 reels on one slot: one segment renders, the next of each other reel waits in line.
    const backlog: Array<{ workflowId: string }> = [];
    for (let i = 0; i < 3; i++) backlog.push(await h.service.enqueue(recommendationInput({ priority: 'P3', title: `Relleno ${i + 1}` })));
    cleanups.push(() => Promise.all(backlog.map((b) => h.client.workflow.getHandle(b.workflowId).terminate('test over'))));
    const steps = () => segmentSteps(h);
    const waitingP3 = (rows: Step[]) =>
      new Set(rows.filter((r) => r.priority === 'P3' && r.event === 'waiting').map((r) => r.job_id)).size -
      new Set(rows.filter((r) => r.priority === 'P3' && r.event === 'started').map((r) => r.job_id)).size;
    await waitUntil(async () => waitingP3(await steps()) >= 2, { timeoutMs: 60_000, what: 'P3 segments waiting' });
    const urgent = await h.service.enqueue(recommendationInput({ priority: 'P0', title: 'Última hora' }));
    cleanups.push(() => h.client.workflow.getHandle(urgent.workflowId).terminate('test over'));
    const started = (rows: Step[]) => rows.filter((r) => r.priority === 'P0' && r.event === 'started');
    await waitUntil(async () => started(await steps()).length === 4, { timeoutMs: 60_000, what: 'the four P0 segments started' });
    const rows = await steps();
    const joined = Math.min(...rows.filter((r) => r.priority === 'P0' && r.event === 'waiting').map((r) => r.at.getTime()));
    const lastStart = Math.max(...started(rows).map((r) => r.at.getTime()));
    const overtook = rows.filter(
      (r) => r.priority === 'P3' && r.event === 'started' && r.at.getTime() > joined && r.at.getTime() < lastStart,
    );
    expect(overtook).toEqual([]);
    // Segments 2-4 never queued: each was handed its predecessor's slot.
    expect(rows.filter((r) => r.priority === 'P0' && r.event === 'handed_over')).toHaveLength(3);
    expect(waitingP3(rows)).toBeGreaterThan(0);
  });
});
