/**
 * kill -9 of the worker polling a VEO3 render: how long until the other
 * worker process has the job running again ('resumed': it took over the same
 * slot and the same provider task), and whether VEO3 was paid twice.
 *
 * Both workers are up before the job starts (no start-up time in the figure);
 * the one Temporal says runs the activity is killed. Runs last: it leaves one
 * worker process.
 */
import { enqueueMany, fmtS, jobEvents, sleep, waitForWorkflows, waitUntil, recommendation } from '../measure';
import { atMost, type Scenario } from '../scenario';

const TASK_MS = 15_000;
/** How far into the render the worker dies (it is polling by then). */
const KILL_AFTER_SUBMIT_MS = 1_000;
const TARGET_S = 15;

export const kill: Scenario = {
  name: 'kill',
  summary: `kill -9 of the worker polling a ${TASK_MS / 1000} s VEO3 render; the other process resumes it`,
  async run(bench, rec) {
    const workers = await bench.workers();
    if (workers.filter((w) => w.alive()).length < 2) throw new Error('kill needs both worker processes alive');
    await bench.prepare({ limits: { veo3: { maxConcurrent: 2 } }, durations: { veo3: TASK_MS } });

    const [job] = await enqueueMany(bench, [recommendation('kill -9')]);
    const { recommendation: r, workflowId } = job!;
    const videoJob = async () =>
      (await bench.q<{ id: string; provider_task_id: string | null; attempts: number; status: string }>(
        `SELECT id, provider_task_id, attempts, status FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
        [r.id],
      ))[0];
    await waitUntil(async () => (await videoJob())?.provider_task_id, { what: 'VEO3 submitted' });
    await sleep(KILL_AFTER_SUBMIT_MS);

    const desc = await bench.client.workflow.getHandle(workflowId).describe();
    const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'generateVideo');
    const victim = workers.find((w) => w.identity === pending?.lastWorkerIdentity);
    if (!victim) throw new Error(`no bench worker runs the VEO3 activity (identity ${pending?.lastWorkerIdentity ?? 'none'})`);
    const survivor = workers.find((w) => w !== victim)!;
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    rec.log(`killed worker ${victim.name} (pid ${victim.pid}); waiting for ${survivor.name} to resume`);

    const { id: jobId } = (await videoJob())!;
    const resumed = await waitUntil(
      async () => (await jobEvents(bench, [r.id], 'veo3')).find((e) => e.jobId === jobId && e.event === 'resumed'),
      { timeoutMs: 90_000, intervalMs: 50, what: "the 'resumed' event" },
    );
    const resumedS = (resumed.at - killedAt) / 1000;
    await waitForWorkflows(bench, [workflowId], 90_000);
    const submissions = bench.sims.veo3.stats().submissions;
    const final = (await videoJob())!;
    const [status] = await bench.q<{ status: string }>(`SELECT status FROM competitive_recommendations WHERE id = $1`, [r.id]);

    rec.figure({
      metric: "kill -9 -> 'resumed' on the other worker",
      value: fmtS(resumed.at - killedAt),
      target: `<= ${TARGET_S} s`,
      bullmq: '~59 s',
      met: atMost(resumedS, TARGET_S),
    });
    rec.figure({ metric: 'VEO3 submissions for the job', value: String(submissions), target: '1', bullmq: '2', met: submissions === 1 });
    rec.note(
      `job ${final.status} after ${final.attempts} attempts, recommendation ${status?.status}; the retry waits for Temporal's ` +
        'heartbeat timeout (10 s, counted from the last heartbeat the SDK actually sent; it throttles them) plus the 1 s retry interval',
    );
  },
};
