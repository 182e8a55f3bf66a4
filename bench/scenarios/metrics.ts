/**
 * What 1000 post-metrics workflows cost while they sleep between their reads (+1 h … +7 d): the CPU of the two
 * worker processes (utime + stime from /proc, children included) over a quiet window with none running, then
 * with 1000 started and asleep on their first durable timer; and what putting them to sleep cost (the start
 * burst: each workflow's first task, to its first timer). A sleeping workflow is a timer in the server, so the
 * figure that matters is the one above idle. The workflows are terminated at the end.
 */
import fs from 'node:fs';
import { WorkflowNotFoundError } from '@temporalio/client';
import { mapLimit, CALLERS } from '../measure';
import { below, type Scenario } from '../scenario';
import { sleep } from '../../src/shared/sleep';
import { POST_METRICS_WORKFLOW, postMetricsWorkflowId } from '../../src/shared/workflow-ids';
import type { PostMetricsInput } from '../../src/workflows/post-metrics';

const WORKFLOWS = 1_000;
const WINDOW_MS = 30_000;
/** The default schedule: the first timer is an hour away, so nothing wakes during the measurement. */
const READS = [3_600, 21_600, 86_400, 259_200, 604_800];
/** 5 % of one core, for both worker processes together, above their idle. */
const TARGET_MS_PER_S = 50;
const TICKS_PER_S = 100;

/** CPU milliseconds used so far by a process and every process below it. */
function cpuMs(rootPid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (2nd field) may hold spaces: fields are counted after its closing parenthesis.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // Gone between readdir and read.
    }
  }
  const tree = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, s] of stats) if (!tree.has(pid) && tree.has(s.ppid)) grew = tree.add(pid).size > 0;
  }
  return [...tree].reduce((sum, pid) => sum + (stats.get(pid)?.ticks ?? 0), 0) * (1000 / TICKS_PER_S);
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export const metrics: Scenario = {
  name: 'metrics',
  summary: `CPU of the 2 workers with ${WORKFLOWS} post-metrics workflows asleep on their timers, against idle`,
  async run(bench, rec) {
    await bench.prepare({});
    const workers = await bench.workers();
    const pids = workers.map((w) => w.pid);
    const cpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const perSecond = async () => {
      const before = cpu();
      await sleep(WINDOW_MS);
      return (cpu() - before) / (WINDOW_MS / 1000);
    };
    const rssBefore = pids.reduce((sum, pid) => sum + rssMb(pid), 0);
    rec.log(`idle window (${WINDOW_MS / 1000} s) ...`);
    const idle = await perSecond();

    const [row] = await bench.q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title)
       VALUES ('P2', 'published', 'player_spotlight', 'bench metrics') RETURNING id`,
    );
    const ids = Array.from({ length: WORKFLOWS }, (_, i) => postMetricsWorkflowId('youtube', `bench${String(i).padStart(6, '0')}`));
    const publishedAt = new Date().toISOString();
    rec.log(`starting ${WORKFLOWS} post-metrics workflows ...`);
    const cpu0 = cpu();
    const t0 = Date.now();
    await mapLimit(ids, CALLERS, async (workflowId, i) => {
      const input: PostMetricsInput = {
        recommendationId: row!.id,
        platform: 'youtube',
        postId: `bench${String(i).padStart(6, '0')}`,
        publishedAt,
        readsSeconds: READS,
      };
      await bench.client.workflow.start(POST_METRICS_WORKFLOW, { taskQueue: bench.taskQueue, workflowId, args: [input] });
    });
    const startedMs = Date.now() - t0;
    // Asleep = its first workflow task completed (the timer is set): wait until the workers have gone quiet.
    let quiet = 0;
    let last = cpu();
    while (quiet < 3) {
      await sleep(1_000);
      const now = cpu();
      quiet = now - last < 100 ? quiet + 1 : 0;
      last = now;
    }
    const burstMs = last - cpu0;
    const burstWallMs = Date.now() - t0;
    rec.log(`asleep; measuring (${WINDOW_MS / 1000} s) ...`);
    const asleep = await perSecond();
    const rssAfter = pids.reduce((sum, pid) => sum + rssMb(pid), 0);
    const above = asleep - idle;

    rec.figure({
      metric: `CPU of the 2 workers, ${WORKFLOWS} metrics workflows asleep`,
      value: `${asleep.toFixed(1)} ms/s (idle ${idle.toFixed(1)} ms/s, +${above.toFixed(1)} ms/s)`,
      target: `< ${TARGET_MS_PER_S} ms/s above idle`,
      bullmq: '-',
      met: below(above, TARGET_MS_PER_S),
    });
    rec.figure({
      metric: `putting ${WORKFLOWS} metrics workflows to sleep (first task each)`,
      value:
        `${(burstMs / 1000).toFixed(1)} s CPU (${(burstMs / WORKFLOWS).toFixed(2)} ms each), ` +
        `${(burstWallMs / 1000).toFixed(1)} s wall`,
      target: '-',
      bullmq: '-',
      met: true,
    });
    rec.note(
      `${WORKFLOWS} starts took ${(startedMs / 1000).toFixed(1)} s (${CALLERS} callers); worker memory ${rssBefore.toFixed(0)} MB -> ` +
        `${rssAfter.toFixed(0)} MB (the sticky cache keeps sleeping workflows until evicted); timers at ${READS.join(', ')} s`,
    );

    rec.log('terminating them ...');
    await mapLimit(ids, CALLERS, (id) =>
      bench.client.workflow
        .getHandle(id)
        .terminate('bench over')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }),
    );
  },
};
