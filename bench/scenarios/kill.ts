/**
 * Losing the worker that polls a VEO3 render: how long until another worker
 * process has the job running again ('resumed': it took over the same slot and
 * the same provider task), and whether VEO3 was paid twice. Two ways to lose it:
 *
 * - deploy: SIGTERM, as a rolling deploy or a scale-in does. The worker hands
 *   the job on as it stops; a replacement process joins, as in a deploy.
 * - kill: kill -9 (or a lost machine). Nobody hands anything on: Temporal's
 *   heartbeat timeout finds it. Runs last: it leaves one worker process.
 *
 * The workers are up before the job starts (no start-up time in the figure);
 * the one Temporal says runs the activity is the one lost.
 */
import { enqueueMany, fmtS, jobEvents, waitForWorkflows, waitUntil, recommendation } from '../measure';
import { sleep } from '../../src/shared/sleep';
import { atMost, type Scenario } from '../scenario';

const TASK_MS = 15_000;
/** How far into the render the worker goes (it is polling by then). */
const LOSE_AFTER_SUBMIT_MS = 1_000;

interface WorkerLoss {
  name: string;
  signal: 'SIGTERM' | 'SIGKILL';
  what: string;
  targetS: number;
  bullmq: string;
  /** Where the time goes, for the notes. */
  why: string;
  /** Start a replacement process afterwards (a deploy does). */
  replace: boolean;
}

function workerLossScenario(loss: WorkerLoss): Scenario {
  return {
    name: loss.name,
    summary: `${loss.what} of the worker polling a ${TASK_MS / 1000} s VEO3 render; another process resumes it`,
    async run(bench, rec) {
      const workers = await bench.workers();
      if (workers.filter((w) => w.alive()).length < 2) throw new Error(`${loss.name} needs two worker processes alive`);
      await bench.prepare({ limits: { veo3: { maxConcurrent: 2 } }, durations: { veo3: TASK_MS } });

      const [job] = await enqueueMany(bench, [recommendation(loss.what)]);
      const { recommendation: r, workflowId } = job!;
      const videoJob = async () =>
        (
          await bench.q<{ id: string; provider_task_id: string | null; attempts: number; status: string }>(
            `SELECT id, provider_task_id, attempts, status FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
            [r.id],
          )
        )[0];
      await waitUntil(async () => (await videoJob())?.provider_task_id, { what: 'VEO3 submitted' });
      await sleep(LOSE_AFTER_SUBMIT_MS);

      const desc = await bench.client.workflow.getHandle(workflowId).describe();
      const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'generateVideo');
      const victim = workers.find((w) => w.alive() && w.identity === pending?.lastWorkerIdentity);
      if (!victim) throw new Error(`no bench worker runs the VEO3 activity (identity ${pending?.lastWorkerIdentity ?? 'none'})`);
      const lostAt = Date.now();
      await victim.kill(loss.signal);
      rec.log(`${loss.what}: worker ${victim.name} (pid ${victim.pid}); waiting for another to resume`);

      const { id: jobId } = (await videoJob())!;
      const resumed = await waitUntil(
        async () => (await jobEvents(bench, [r.id], 'veo3')).find((e) => e.jobId === jobId && e.event === 'resumed'),
        { timeoutMs: 90_000, intervalMs: 50, what: "the 'resumed' event" },
      );
      await waitForWorkflows(bench, [workflowId], 90_000);
      const submissions = bench.sims.veo3.stats().submissions;
      const final = (await videoJob())!;
      const [status] = await bench.q<{ status: string }>(`SELECT status FROM competitive_recommendations WHERE id = $1`, [r.id]);

      rec.figure({
        metric: `${loss.what} -> 'resumed' on another worker`,
        value: fmtS(resumed.at - lostAt),
        target: `<= ${loss.targetS} s`,
        bullmq: loss.bullmq,
        met: atMost((resumed.at - lostAt) / 1000, loss.targetS),
      });
      rec.figure({
        metric: `VEO3 submissions for the job (${loss.name})`,
        value: String(submissions),
        target: '1',
        bullmq: loss.signal === 'SIGKILL' ? '2' : '-',
        met: submissions === 1,
      });
      rec.note(`job ${final.status} after ${final.attempts} attempts, recommendation ${status?.status}; ${loss.why}`);
      if (loss.replace) rec.log(`replacement worker ${(await bench.addWorker(`${victim.name}'`)).name} is up`);
    },
  };
}

export const deploy = workerLossScenario({
  name: 'deploy',
  signal: 'SIGTERM',
  what: 'deploy (SIGTERM)',
  targetS: 5,
  bullmq: '-',
  why:
    'the stopping worker fails the attempt as WorkerShutdown at once (the render goes on at KIE); ' +
    'the next attempt waits only for the 1 s retry interval',
  replace: true,
});

export const kill = workerLossScenario({
  name: 'kill',
  signal: 'SIGKILL',
  what: 'kill -9',
  targetS: 15,
  bullmq: '~59 s',
  why:
    "the retry waits for Temporal's heartbeat timeout (10 s, counted from the last heartbeat the SDK actually sent; " +
    'it throttles them) plus the 1 s retry interval',
  replace: false,
});
