/**
 * Priority: 1000 P3 jobs wait in VEO3's line behind a blocker holding the only
 * slot; then P0s arrive, one after another (PRIORITY_TRACE.p0Rounds). Each
 * joins the line while the render before it (the blocker's, then the previous
 * P0's) holds the slot, and must start next and quickly when that render ends,
 * with no P3 jumping ahead of it. The figure is the median of the rounds: one
 * sample a run swung from 7 to 32 ms between runs.
 *
 * The renders holding the slot never finish (simulator fault) until the bench
 * lets them, so the line can fill at its own pace. Right after the last P0 is
 * granted, VEO3 is paused (cap 0) so none of the P3 jobs being cancelled gets a
 * slot: a cancelled VEO3 job with a render in flight keeps its slot for 2x its
 * estimate (10 min), which would block the scenarios after this one.
 *
 * The BullMQ peer (bench/peer/bullmq.ts) then runs the same trace: a blocker on the only slot (concurrency and
 * global concurrency 1), the same number of P3 jobs (BullMQ priority 4) and the P0s (priority 1) one after another;
 * each wait runs from the processor before it returning to the P0's processor about to submit, as ours runs from the
 * slot freed (KIE's callback in the API's hook, else 'completed') to 'provider_call'.
 */
import {
  CALLERS,
  cancelAndWatch,
  enqueueMany,
  fmtMs,
  fmtS,
  jobEvents,
  firstEvents,
  mapLimit,
  percentile,
  fmtP50P95,
  recommendation,
  setCap,
  slotFreed,
  waitForWorkflows,
  waitInLine,
  waitUntil,
} from '../measure';
import { atMost, below, type Recorder, type Scenario } from '../scenario';
import type { EnqueueResult } from '../../src/services/recommendations';
import { closeWorkflowJobs } from '../../src/db/queries';
import type { Bench } from '../setup';
import { BULLMQ_VERSION, bullmqPriority, peerColumn, withPeer, type PeerEvent } from '../peer/bullmq';

/** The trace, for us and for the BullMQ peer. */
export const PRIORITY_TRACE = { p3Jobs: 1_000, p0TaskMs: 3_000, cap: 1, p0Rounds: 5 } as const;
const { p3Jobs: P3_JOBS, p0TaskMs: P0_TASK_MS, p0Rounds: P0_ROUNDS } = PRIORITY_TRACE;
/** Cancellation reaches a waiting activity with its next heartbeat (seconds); past this, terminate. */
const CANCEL_BUDGET_MS = 90_000;
/** Issue 18: a line of a thousand empty within 5 s of the operator's cancel. */
const CANCEL_TARGET_MS = 5_000;
/** No target was set for this figure; the overhead target (200 ms) applies. */
const TARGET_WAIT_MS = 200;

const generateJob = async (bench: Bench, recId: string) =>
  (
    await bench.q<{ id: string; provider_task_id: string | null; waiting_since: Date | null }>(
      `SELECT id, provider_task_id, waiting_since FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
      [recId],
    )
  )[0];

/**
 * Cancel every P3 as an operator would (`reelflow cancel <id> <id> ...`), bounded: whatever is still open after the
 * budget is terminated. How long until the line was empty, and until every workflow had been asked.
 */
async function cancelLine(bench: Bench, rec: Recorder, p3: readonly EnqueueResult[]): Promise<{ text: string; emptyMs: number }> {
  const ids = p3.map((r) => r.recommendation.id);
  const watched = await cancelAndWatch(bench, ids, CANCEL_BUDGET_MS).catch((err: Error) => {
    rec.log(`  cancel: ${err.message}`);
    return null;
  });
  const left = watched
    ? []
    : await bench.q<{ workflow_id: string }>(
        `SELECT DISTINCT workflow_id FROM automation_queue
          WHERE recommendation_id = ANY($1::uuid[]) AND status IN ('queued', 'processing')`,
        [ids],
      );
  if (left.length) {
    rec.log(`  ${left.length} P3 still open after ${fmtS(CANCEL_BUDGET_MS)}: terminating them`);
    await mapLimit(left, CALLERS, (w) =>
      bench.client.workflow
        .getHandle(w.workflow_id)
        .terminate('bench clean-up')
        .catch(() => undefined),
    );
    // A terminated workflow runs no clean-up of its own.
    await closeWorkflowJobs(
      bench.db.database.pool,
      left.map((w) => w.workflow_id),
      'bench clean-up',
    );
  }
  return watched
    ? { text: `${fmtS(watched.emptyMs)} (every workflow asked: ${fmtS(watched.askedMs)})`, emptyMs: watched.emptyMs }
    : { text: `${P3_JOBS - left.length} in ${fmtS(CANCEL_BUDGET_MS)}, rest terminated`, emptyMs: NaN };
}

/**
 * The same trace on BullMQ: each P0's wait after the slot before it frees (the blocker's, then each P0's in turn), and
 * the P3 jobs that started before the last P0.
 */
function bullmqRun(): Promise<{ waitsMs: number[]; jumped: number; submitsMs: number[]; redis: string }> {
  return withPeer({ cap: PRIORITY_TRACE.cap, spacingMs: 0, taskMs: P0_TASK_MS }, async (peer) => {
    peer.sim.setFaults({ neverFinish: true });
    const blocker = await peer.queue.add('generate', { title: 'priority blocker' }, { priority: bullmqPriority('P3') });
    await waitUntil(() => peer.sim.stats().submissions >= 1, { intervalMs: 20, what: 'the BullMQ blocker rendering' });
    await peer.queue.addBulk(
      Array.from({ length: P3_JOBS }, (_, i) => ({
        name: 'generate',
        data: { title: `priority p3 ${i}` },
        opts: { priority: bullmqPriority('P3') },
      })),
    );
    const of = (job: string | undefined, step: PeerEvent['event']) => peer.events().find((e) => e.jobId === job && e.event === step);
    const [waitsMs, submitsMs, p0Ids] = [[] as number[], [] as number[], [] as string[]];
    let holder = blocker.id;
    for (let round = 1; round <= P0_ROUNDS; round++) {
      const p0 = await peer.queue.add('generate', { title: `priority P0 ${round}` }, { priority: bullmqPriority('P0') });
      // The render holding the slot ends at its next status read; the P0's own then waits for the next round.
      peer.sim.setFaults({ neverFinish: false });
      await waitUntil(() => of(p0.id, 'provider_call'), { timeoutMs: 30_000, intervalMs: 10, what: 'the BullMQ P0 calling VEO3' });
      if (round === P0_ROUNDS)
        await peer.queue.pause(); // as ours pauses VEO3: no P3 renders after the figure
      else peer.sim.setFaults({ neverFinish: true });
      await waitUntil(() => peer.sim.stats().submissions >= round + 1, { timeoutMs: 10_000, intervalMs: 10, what: 'the BullMQ P0 submit' });
      const released = of(holder, 'completed')!.at;
      waitsMs.push(of(p0.id, 'provider_call')!.at - released);
      submitsMs.push(peer.sim.stats().submitTimes[round]! - released);
      p0Ids.push(p0.id!);
      holder = p0.id;
    }
    const lastStarted = of(p0Ids.at(-1), 'started')!.at;
    const jumped = peer
      .events()
      .filter((e) => e.event === 'started' && e.jobId !== blocker.id && !p0Ids.includes(e.jobId!) && e.at <= lastStarted).length;
    return { waitsMs, jumped, submitsMs, redis: peer.redis };
  });
}

export const priority: Scenario = {
  name: 'priority',
  summary: `${P3_JOBS} P3 jobs in VEO3's line (cap 1, blocked), then ${P0_ROUNDS} P0s one after another`,
  async run(bench, rec) {
    await bench.prepare({
      // OpenAI only feeds the VEO3 line here: no start margin, or 1000 analyses alone would take 100 s.
      limits: { veo3: { maxConcurrent: 1 }, openai: { maxConcurrent: 200, startMarginMs: 0 } },
      durations: {},
    });
    bench.sims.veo3.setFaults({ neverFinish: true });

    const blocker = await bench.service.enqueue(recommendation('priority blocker', { priority: 'P3' }));
    await waitUntil(async () => (await generateJob(bench, blocker.recommendation.id))?.provider_task_id, {
      what: 'the blocker rendering on VEO3',
    });

    const t = Date.now();
    const p3 = await enqueueMany(
      bench,
      Array.from({ length: P3_JOBS }, (_, i) => recommendation(`priority p3 ${i}`, { priority: 'P3' })),
    );
    const p3Ids = p3.map((r) => r.recommendation.id);
    rec.log(`enqueued ${P3_JOBS} P3 in ${fmtS(Date.now() - t)}; waiting for all to reach the VEO3 line`);
    // A guard against a hang, not a target: the fill is its own figure. On Temporal on PostgreSQL and a loaded
    // 2-core machine, 1,000 took more than 300 s (the first --cluster run).
    await waitInLine(bench, p3Ids, 'generate', {
      timeoutMs: 600_000,
      progress: (n) => rec.log(`  ${n}/${P3_JOBS} in line`),
    });
    const fillMs = Date.now() - t;

    // P0_ROUNDS P0s, one after another: each joins the line while the render before it (the blocker's, then the
    // previous P0's) holds the only slot, and that render ends once it is there. One sample a run swung from 7 to
    // 32 ms between runs, on both sides: the figure is their median.
    const rounds: Array<{ waitMs: number; submitMs: number; split: string }> = [];
    const p0s: EnqueueResult[] = [];
    let holder = blocker;
    for (let round = 1; round <= P0_ROUNDS; round++) {
      const p0 = await bench.service.enqueue(recommendation(`priority P0 ${round}`, { priority: 'P0' }));
      p0s.push(p0);
      await waitUntil(async () => (await generateJob(bench, p0.recommendation.id))?.waiting_since, {
        what: 'the P0 in the VEO3 line',
      });
      const submitted = bench.sims.veo3.stats().submissions;
      // Release: the holder's render finishes at its next poll; the P0's takes P0_TASK_MS, or waits for the next round.
      bench.sims.veo3.setFaults({ neverFinish: false, taskDurationMs: P0_TASK_MS });
      const p0Job = (await generateJob(bench, p0.recommendation.id))!;
      const p0Event = async (event: string) =>
        (await bench.q<{ id: string }>(`SELECT id FROM job_events WHERE job_id = $1 AND event = $2`, [p0Job.id, event])).length > 0;
      await waitUntil(() => p0Event('started'), { timeoutMs: 30_000, intervalMs: 10, what: 'the P0 granted' });
      if (round === P0_ROUNDS)
        await setCap(bench, 'veo3', 0); // pause, see above
      else bench.sims.veo3.setFaults({ neverFinish: true });
      await waitUntil(() => p0Event('provider_call'), { timeoutMs: 30_000, intervalMs: 20, what: 'the P0 calling VEO3' });
      await waitUntil(() => bench.sims.veo3.stats().submissions > submitted, { timeoutMs: 10_000, intervalMs: 10, what: 'the P0 submit' });

      const holderEvents = firstEvents(await jobEvents(bench, [holder.recommendation.id], 'veo3'));
      const released = slotFreed(holderEvents)!.at;
      const p0Events = firstEvents(await jobEvents(bench, [p0.recommendation.id], 'veo3'));
      const [granted, call] = [p0Events.get('started')!, p0Events.get('provider_call')!];
      const freedBy = holderEvents.has('task_end_heard') ? "KIE's callback in the API's hook" : "the holder's 'completed' (its poll)";
      rounds.push({
        waitMs: call.at - released,
        submitMs: bench.sims.veo3.stats().submitTimes[submitted]! - released,
        // Where a slow one went: which hop.
        split:
          `slot freed by ${freedBy} -> granted ${fmtMs(granted.at - released)} -> 'provider_call' ${fmtMs(call.at - granted.at)}` +
          ` (${call.detail.inGrant ? 'claimed in the grant' : 'not claimed in the grant: NOTIFY or signal, wake, claim_start'})`,
      });
      holder = p0;
    }
    const waitsMs = rounds.map((r) => r.waitMs);
    const lastStarted = firstEvents(await jobEvents(bench, [holder.recommendation.id], 'veo3')).get('started')!;
    const p3Events = await jobEvents(bench, p3Ids, 'veo3');
    const jumped = p3Events.filter((e) => e.event === 'started' && e.id < lastStarted.id).length;
    const p3Started = p3Events.filter((e) => e.event === 'started').length;
    rec.note(`filling the line: ${P3_JOBS} P3 enqueued and in VEO3's line after ${fmtS(fillMs)} (analyse step included)`);
    rec.note(
      `slot release -> P0 submit seen by the simulator: ${fmtP50P95(rounds.map((r) => r.submitMs))}; P3 granted VEO3 at all: ${p3Started}`,
    );
    rounds.forEach((r, i) => rec.note(`  P0 ${i + 1}: ${fmtMs(r.waitMs)}; ${r.split}`));
    const cancelled = await cancelLine(bench, rec, p3);
    await waitForWorkflows(bench, [blocker.workflowId, ...p0s.map((p) => p.workflowId)], 60_000);

    // The peer, on the same trace, once ours is cleaned up.
    const peer = await peerColumn(bench, rec, bullmqRun);
    if (peer.result) {
      rec.note(
        `BullMQ ${BULLMQ_VERSION} on Redis ${peer.result.redis}, 2 worker processes, concurrency 1, global concurrency 1: ` +
          `slot release -> P0 submit seen by the simulator ${fmtP50P95(peer.result.submitsMs)}; ` +
          `slot release -> P0 'provider_call' ${peer.result.waitsMs.map((ms) => fmtMs(ms)).join(', ')}`,
      );
    }

    const p0Figure = (waits: readonly number[]) => `p50 ${fmtMs(percentile(waits, 50))} (max ${fmtMs(Math.max(...waits))})`;
    rec.figure({
      metric: `P0 wait: slot release -> P0 'provider_call', ${P0_ROUNDS} P0s in turn`,
      value: p0Figure(waitsMs),
      target: `< ${TARGET_WAIT_MS} ms`,
      bullmq: peer.cell((p) => p0Figure(p.waitsMs)),
      // Every P0 under the target, as the single P0 of the trace before had to be: the median is what is compared.
      met: below(Math.max(...waitsMs), TARGET_WAIT_MS),
    });
    rec.figure({
      metric: `P3 jobs started before the last P0 (of ${P3_JOBS})`,
      value: String(jumped),
      target: '0',
      bullmq: peer.cell((p) => String(p.jumped)),
      met: jumped === 0,
    });

    rec.figure({
      metric: `cancel ${P3_JOBS} waiting workflows (reelflow cancel <ids>) -> line empty`,
      value: cancelled.text,
      target: `<= ${fmtS(CANCEL_TARGET_MS)}`,
      bullmq: '-',
      met: atMost(cancelled.emptyMs, CANCEL_TARGET_MS),
    });
  },
};
