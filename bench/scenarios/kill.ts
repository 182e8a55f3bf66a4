/**
 * Losing the worker that polls a VEO3 render: how long until another worker
 * process has the job running again ('resumed': it took over the same slot and
 * the same provider task), and whether VEO3 was paid twice. Two ways to lose it:
 *
 * - deploy: SIGTERM, as a rolling deploy or a scale-in does. The worker hands
 *   the job on as it stops; a replacement process joins, as in a deploy.
 * - kill: kill -9 (a crash, an OOM kill). Nobody hands anything on: its PostgreSQL
 *   session ends with it, and the other process's lost-worker watch fails the
 *   attempt (src/gate/presence.ts). Runs last: it leaves one worker process.
 *
 * The workers are up before the job starts (no start-up time in the figure);
 * the one Temporal says runs the activity is the one lost.
 *
 * kill -9 also runs on the BullMQ peer (bench/peer/bullmq.ts), same render and timing: the worker process running the
 * job is killed 1 s into the render; the figure is the time until another process starts the job again, and the VEO3
 * submissions for it. BullMQ finds the job only once its lock has expired (lockDuration 30 s, renewed every 15 s) and
 * a stalled-jobs check (every stalledInterval, 30 s) has seen it unlocked: about 30 to 60 s with the defaults.
 */
import { enqueueMany, fmtS, jobEvents, waitForWorkflows, waitUntil, recommendation } from '../measure';
import { sleep } from '../../src/shared/sleep';
import { atMost, type Scenario } from '../scenario';
import { BULLMQ_VERSION, bullmqPriority, peerColumn, withPeer } from '../peer/bullmq';

/** The trace, for us and for the BullMQ peer: a render of taskMs, its worker lost loseAfterSubmitMs after the submit. */
export const KILL_TRACE = { taskMs: 15_000, loseAfterSubmitMs: 1_000, cap: 2 } as const;
const { taskMs: TASK_MS, loseAfterSubmitMs: LOSE_AFTER_SUBMIT_MS } = KILL_TRACE;
/** BullMQ's defaults put the take-over at 30-60 s; past this the peer's figure is 'not resumed'. */
const PEER_RESUME_TIMEOUT_MS = 120_000;

/** The same loss on BullMQ: kill -9 of the worker process running the job, 1 s into the render. */
function bullmqKill(): Promise<{ resumedMs: number; submissions: number; redis: string; resumedWithTask: boolean }> {
  return withPeer({ cap: KILL_TRACE.cap, spacingMs: 0, taskMs: TASK_MS }, async (peer) => {
    const job = await peer.queue.add('generate', { title: 'kill -9' }, { priority: bullmqPriority('P1') });
    const event = (step: string, pid?: number) =>
      peer.events().find((e) => e.jobId === job.id && e.event === step && (pid === undefined || e.pid !== pid));
    const call = await waitUntil(() => event('provider_call'), { intervalMs: 20, what: 'the BullMQ job submitting' });
    await waitUntil(() => peer.sim.stats().submissions >= 1, { intervalMs: 20, what: 'the BullMQ submit' });
    await sleep(LOSE_AFTER_SUBMIT_MS);
    const victim = peer.workers.find((w) => w.pid === call.pid)!;
    const lostAt = Date.now();
    await victim.kill('SIGKILL');
    const resumed = await waitUntil(() => event('started', victim.pid), {
      timeoutMs: PEER_RESUME_TIMEOUT_MS,
      intervalMs: 50,
      what: 'the BullMQ job started again on the other worker',
    });
    await waitUntil(() => event('completed'), { timeoutMs: 60_000, intervalMs: 50, what: 'the BullMQ job completed' });
    return {
      resumedMs: resumed.at - lostAt,
      submissions: peer.sim.stats().submissions,
      redis: peer.redis,
      resumedWithTask: Boolean(event('resumed')),
    };
  });
}

interface WorkerLoss {
  name: string;
  signal: 'SIGTERM' | 'SIGKILL';
  what: string;
  targetS: number;
  /** Run the same loss on the BullMQ peer (kill -9 only: a SIGTERM'd BullMQ worker finishes its jobs before it stops). */
  peer: boolean;
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

      const peer = loss.peer ? await peerColumn(bench, rec, bullmqKill) : undefined;
      if (peer?.result) {
        rec.note(
          `BullMQ ${BULLMQ_VERSION} on Redis ${peer.result.redis}, 2 worker processes, lockDuration and stalledInterval ` +
            `at their defaults (30 s): the job ran again ${fmtS(peer.result.resumedMs)} after the kill` +
            (peer.result.resumedWithTask ? ', polling the task id its first run saved with job.updateData' : ', from scratch'),
        );
      }
      rec.figure({
        metric: `${loss.what} -> 'resumed' on another worker`,
        value: fmtS(resumed.at - lostAt),
        target: `<= ${loss.targetS} s`,
        bullmq: peer?.cell((p) => fmtS(p.resumedMs)) ?? '-',
        met: atMost((resumed.at - lostAt) / 1000, loss.targetS),
      });
      rec.figure({
        metric: `VEO3 submissions for the job (${loss.name})`,
        value: String(submissions),
        target: '1',
        bullmq: peer?.cell((p) => String(p.submissions)) ?? '-',
        met: submissions === 1,
      });
      rec.note(`job ${final.status} after ${final.attempts} attempts, recommendation ${status?.status}; ${loss.why}`);
      if (loss.replace)
        rec.log(`replacement worker ${(await bench.addWorker({ name: `${victim.name}'`, queues: victim.queues })).name} is up`);
    },
  };
}

export const deploy = workerLossScenario({
  name: 'deploy',
  signal: 'SIGTERM',
  what: 'deploy (SIGTERM)',
  targetS: 5,
  peer: false,
  why:
    'the stopping worker fails the attempt as WorkerShutdown at once (the render goes on at KIE); ' +
    'the next attempt waits only for the 500 ms first retry',
  replace: true,
});

export const kill = workerLossScenario({
  name: 'kill',
  signal: 'SIGKILL',
  what: 'kill -9',
  targetS: 5,
  peer: true,
  why:
    "the killed process's PostgreSQL session ends with it, which releases its presence lock; the other process's " +
    'lost-worker watch (1 s tick) fails the attempt as WorkerLost, and its retry is not backed off ' +
    '(src/gate/presence.ts, src/temporal/client.ts). ' +
    'A frozen process, its session still up, is found by the 10 s heartbeat timeout instead',
  replace: false,
});
