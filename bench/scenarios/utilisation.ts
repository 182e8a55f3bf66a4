/**
 * Utilisation, the headline: how much of the paid VEO3 capacity the engine
 * keeps busy when VEO3 is the bottleneck (2 slots, 200 ms between starts,
 * fixed 2 s renders; OpenAI and Instagram instant and uncapped).
 *
 *   utilisation = sum of busy time / (cap x makespan)
 *
 * measured at the provider: busy intervals are [submit, submit + 2000 ms]
 * from the simulator's own submit times, makespan is first submit -> last
 * task end. The simulator also says whether the cap and the spacing held.
 *
 * A second figure is the engine's view, the one a queue like BullMQ reports
 * (its processor's run time over the cap): a job is busy from its start claim
 * ('provider_call') to 'completed', so it counts the provider call and the
 * poll that notices the end as work, and idle is what the engine adds between
 * one job's end and the next start on the freed slot.
 *
 * VEO3 is paused (cap 0) until all 50 jobs wait in its line, as the BullMQ
 * run had its 50 jobs queued up front: otherwise the first seconds measure
 * how fast the analyse step feeds the line, not how well the slots are used.
 *
 * The BullMQ peer (bench/peer/bullmq.ts) then runs the same trace: the same 50 jobs queued up front (queue paused),
 * cap, renders and spacing, against a VEO3 simulator of its own; every provider figure is computed for both by
 * atTheProvider() below, one definition each. Utilisation on both definitions: ours, busy / (cap x span), and the
 * peer's, ideal makespan / actual makespan, where the ideal is the shortest schedule the cap and spacing allow.
 */
import {
  enqueueMany,
  firstEventByJob,
  fmtFineMs,
  fmtMs,
  fmtP50P95,
  jobEvents,
  percentile,
  recommendation,
  runsBetween,
  setCap,
  slotFreed,
  waitForWorkflows,
  waitInLine,
  waitUntil,
} from '../measure';
import { atLeast, atMost, type Recorder, type Scenario } from '../scenario';
import type { Bench } from '../setup';
import { SHIPPED_WORKERS } from '../workers';
import { estimateStarts } from '../../src/gate/eta';
import type { SimStats } from '../../src/simulators/server';
import { BULLMQ_VERSION, bullmqPriority, peerColumn, withPeer, type PeerEvent } from '../peer/bullmq';
import { workerLimits } from '../setup';
import { PROVIDER_LIMITS } from '../../src/config/providers';
import { measureHops } from '../hops';

/** The trace, for us and for the BullMQ peer. */
export const UTILISATION_TRACE = { jobs: 50, cap: 2, spacingMs: 200, taskMs: 2_000 } as const;
const { jobs: JOBS, cap: CAP, spacingMs: SPACING_MS, taskMs: TASK_MS } = UTILISATION_TRACE;
const TARGET = 0.99;
/**
 * provider_limits.start_margin_ms for this run. The default 100 ms covers request-delay
 * jitter over the internet; to the local simulator a request takes p50 4 / p95 11 ms, so
 * 20 ms keeps the same safety here (the 'starts closer than' row checks it at the
 * provider), and the BullMQ run had no margin at all.
 */
export const START_MARGIN_MS = 20;
/**
 * VEO3's status poll in this run, ours and the peer's: production's (10 s), KIE callbacks on as in production. At the
 * bench's 10 ms poll, each running render's worker read its status 100 times a second: load production never has,
 * and on these 2 cores the hand-over's own database transaction took twice as long (docs/bench-history.md).
 */
const VEO3_POLL_MS = PROVIDER_LIMITS.veo3.pollIntervalMs;

/** The shortest makespan the cap and the spacing allow (hand-overs cost nothing): the peer's yardstick. */
function idealMakespan(): number {
  const slotFree: number[] = Array.from({ length: CAP }, () => 0);
  let lastStart = -Infinity;
  for (let j = 0; j < JOBS; j++) {
    const slot = slotFree.indexOf(Math.min(...slotFree));
    lastStart = Math.max(slotFree[slot]!, lastStart + SPACING_MS);
    slotFree[slot] = lastStart + TASK_MS;
  }
  return Math.max(...slotFree);
}

/** Every provider figure, from the simulator's own submit times: one definition for us and for the peer. */
function atTheProvider(submitTimes: readonly number[]) {
  const submits = [...submitTimes].sort((a, b) => a - b);
  const makespan = submits[submits.length - 1]! + TASK_MS - submits[0]!;
  const busy = submits.length * TASK_MS;
  const gaps = submits.slice(1).map((t, i) => t - submits[i]!);
  // Slots as the provider saw them: each submit takes the slot freed earliest.
  const slotEnds: number[] = Array.from({ length: CAP }, () => Number.NaN);
  const handover: number[] = [];
  for (const s of submits) {
    const i = slotEnds.reduce((best, end, k) => (Number.isNaN(end) || end < slotEnds[best]! ? k : best), 0);
    if (!Number.isNaN(slotEnds[i]!)) handover.push(s - slotEnds[i]!);
    slotEnds[i] = s + TASK_MS;
  }
  return {
    submits,
    makespan,
    busy,
    util: busy / (CAP * makespan),
    idealRatio: idealMakespan() / makespan,
    tooClose: gaps.filter((g) => g < SPACING_MS).length,
    handover,
    slotEnds,
  };
}

/** Busy from the start claim (or the processor's submit) to completion, over the cap and the span of all runs. */
function engineView(runs: ReadonlyArray<{ from: number; to: number }>): number {
  const span = Math.max(...runs.map((r) => r.to)) - Math.min(...runs.map((r) => r.from));
  return runs.reduce((a, r) => a + (r.to - r.from), 0) / (CAP * span);
}

interface PeerRun {
  stats: SimStats;
  events: PeerEvent[];
  redis: string;
}

/** The same trace on BullMQ: all jobs queued before the workers may take any, as ours wait in line at cap 0. */
function bullmqRun(): Promise<PeerRun> {
  // The rate limiter counts starts when BullMQ hands a job out, before the HTTP submit: the same margin as ours.
  return withPeer({ cap: CAP, spacingMs: SPACING_MS + START_MARGIN_MS, taskMs: TASK_MS, pollMs: VEO3_POLL_MS }, async (peer) => {
    await peer.queue.pause();
    await peer.queue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: 'generate',
        data: { title: `utilisation ${i}` },
        opts: { priority: bullmqPriority('P1') },
      })),
    );
    await peer.queue.resume();
    const ended = () => peer.events().filter((e) => e.event === 'completed' || e.event === 'failed');
    await waitUntil(() => ended().length >= JOBS, { timeoutMs: 180_000, intervalMs: 100, what: `${JOBS} BullMQ jobs done` });
    return { stats: peer.sim.stats(), events: peer.events(), redis: peer.redis };
  });
}

export const utilisation: Scenario = {
  name: 'utilisation',
  summary: `${JOBS} VEO3 jobs of ${TASK_MS} ms, cap ${CAP}, ${SPACING_MS} ms spacing, 2 worker processes`,
  async run(bench, rec) {
    await bench.respawnWorkers(SHIPPED_WORKERS, { REELFLOW_LIMITS: workerLimits({ veo3: VEO3_POLL_MS }) });
    try {
      await measure(bench, rec);
    } finally {
      await bench.respawnWorkers(['A', 'B']);
    }
  },
};

async function measure(bench: Bench, rec: Recorder): Promise<void> {
  await bench.prepare({
    limits: { veo3: { maxConcurrent: 0, minStartIntervalMs: SPACING_MS, startMarginMs: START_MARGIN_MS } },
    durations: { veo3: TASK_MS },
  });
  const recs = await enqueueMany(
    bench,
    Array.from({ length: JOBS }, (_, i) => recommendation(`utilisation ${i}`)),
  );
  await waitInLine(
    bench,
    recs.map((r) => r.recommendation.id),
    'generate',
    { timeoutMs: 120_000 },
  );
  await setCap(bench, 'veo3', CAP);
  rec.log(`${JOBS} jobs in VEO3's line, cap set to ${CAP}: about ${Math.round((JOBS * TASK_MS) / CAP / 1000)} s of VEO3 work`);
  // ETA accuracy: what the gate predicts, every second, for each job still waiting (compared with its start below).
  const predictions: Array<{ jobId: string; at: number; eta: number }> = [];
  const sample = async () => {
    const at = Date.now();
    for (const e of (await estimateStarts(bench.db.database.pool)).values()) {
      if (e.provider === 'veo3' && e.eta) predictions.push({ jobId: e.jobId, at, eta: e.eta.getTime() });
    }
  };
  const sampler = setInterval(() => void sample().catch(() => undefined), 1_000);
  try {
    await waitForWorkflows(
      bench,
      recs.map((r) => r.workflowId),
      180_000,
    );
  } finally {
    clearInterval(sampler);
  }

  const stats = bench.sims.veo3.stats();
  const ours = atTheProvider(stats.submitTimes);
  const { submits, makespan, busy, handover, slotEnds } = ours;
  const events = await jobEvents(
    bench,
    recs.map((r) => r.recommendation.id),
    'veo3',
  );
  const byJob = firstEventByJob(events);
  const runs = runsBetween(byJob, 'provider_call', 'completed');

  // The peer, on the same trace.
  const peer = await peerColumn(bench, rec, async () => {
    const run = await bullmqRun();
    const runs = runsBetween(firstEventByJob(run.events), 'provider_call', 'completed');
    return { ...run, ...atTheProvider(run.stats.submitTimes), runs };
  });
  const their = peer.cell;
  const theirs = peer.result;

  rec.figure({
    metric: `VEO3 utilisation at the provider, busy / (cap x span) (${JOBS} x ${TASK_MS / 1000} s, cap ${CAP})`,
    value: ours.util.toFixed(3),
    target: `>= ${TARGET}`,
    bullmq: their((t) => t.util.toFixed(3)),
    met: atLeast(ours.util, TARGET),
  });
  rec.figure({
    metric: `same run, ideal makespan (${(idealMakespan() / 1000).toFixed(1)} s) / actual makespan`,
    value: ours.idealRatio.toFixed(3),
    target: '-',
    bullmq: their((t) => t.idealRatio.toFixed(3)),
    met: null,
  });
  const engineUtil = engineView(runs);
  rec.figure({
    metric: "engine view: 'provider_call' -> 'completed' / (cap x span)",
    value: engineUtil.toFixed(3),
    target: `>= ${TARGET}`,
    bullmq: their((t) => (t.runs.length === JOBS ? engineView(t.runs).toFixed(3) : `${t.runs.length} of ${JOBS} jobs ran`)),
    met: atLeast(engineUtil, TARGET) && runs.length === JOBS,
  });
  rec.figure({
    metric: 'slot hand-over at the provider (task end -> next submit on that slot), p50',
    value: fmtMs(percentile(handover, 50)),
    target: '-',
    bullmq: their((t) => fmtMs(percentile(t.handover, 50))),
    met: null,
  });
  const startOf = new Map([...byJob].flatMap(([jobId, m]) => (m.get('provider_call') ? [[jobId, m.get('provider_call')!.at]] : [])));
  // Until three renders have finished the ETA can only use the configured estimate (300 s, not this run's 2 s).
  const completions = events
    .filter((e) => e.event === 'completed')
    .map((e) => e.at)
    .sort((a, b) => a - b);
  const warm = completions[2] ?? Infinity;
  const etaErrors = (from: number) =>
    predictions.flatMap((p) => {
      const started = startOf.get(p.jobId);
      return p.at >= from && started !== undefined && started > p.at ? [Math.abs(started - p.eta)] : [];
    });
  const warmErrors = etaErrors(warm);
  rec.figure({
    metric: `ETA accuracy once run times are known: |predicted - actual start| over ${warmErrors.length} predictions`,
    value: fmtP50P95(warmErrors).replace(/ \(n=\d+\)$/, ''),
    target: 'p50 <= 1 s',
    bullmq: '-',
    met: atMost(percentile(warmErrors, 50), 1_000),
  });
  rec.note(
    `ETA over every prediction, including the first ${fmtMs(warm - (completions[0] ?? warm))} on the configured estimate: ` +
      fmtP50P95(etaErrors(-Infinity)),
  );
  rec.figure({
    metric: 'max in flight at the provider',
    value: String(stats.maxInFlight),
    target: `<= ${CAP}`,
    bullmq: their((t) => String(t.stats.maxInFlight)),
    met: atMost(stats.maxInFlight, CAP),
  });
  rec.figure({
    metric: `starts closer than ${SPACING_MS} ms`,
    value: String(ours.tooClose),
    target: '0',
    bullmq: their((t) => String(t.tooClose)),
    met: ours.tooClose === 0,
  });
  rec.figure({
    metric: 'VEO3 submissions',
    value: String(stats.submissions),
    target: String(JOBS),
    bullmq: their((t) => String(t.stats.submissions)),
    met: stats.submissions === JOBS,
  });
  if (theirs) {
    rec.note(
      `BullMQ ${BULLMQ_VERSION} on Redis ${theirs.redis}: 2 worker processes, concurrency ${CAP} and global concurrency ${CAP}, ` +
        `rate limiter 1 per ${SPACING_MS + START_MARGIN_MS} ms (spacing + the same ${START_MARGIN_MS} ms margin), ` +
        `KIE callback or ${VEO3_POLL_MS} ms poll; makespan ${fmtMs(theirs.makespan)}, hand-over ${fmtP50P95(theirs.handover)}`,
    );
  }

  // Where the idle time went.
  const idle = CAP * makespan - busy;
  const startOffset = (submits[CAP - 1] ?? submits[0]!) - submits[0]!;
  const lastEnd = submits[submits.length - 1]! + TASK_MS;
  const tail = slotEnds.reduce((sum, end) => sum + (lastEnd - end), 0);
  const handoverIdle = handover.reduce((a, b) => a + b, 0);
  rec.note(
    `makespan ${fmtMs(makespan)}, idle slot time ${fmtMs(idle)}: ${fmtMs(startOffset)} staggered first starts ` +
      `(spacing ${SPACING_MS} + margin ${START_MARGIN_MS} ms), ${fmtMs(tail)} tail after the last slot-end but one, ` +
      `${fmtMs(handoverIdle)} in ${handover.length} hand-overs`,
  );
  rec.note(`hand-over at the provider (task end -> next submit on that slot): ${fmtP50P95(handover)}`);
  const bestCase = busy / (CAP * (makespan - handoverIdle / CAP));
  rec.note(`with zero-cost hand-overs the same run would have scored ${bestCase.toFixed(3)} (the stagger and tail are set by the spacing)`);

  // The hand-over split by the database events (same host clock as the simulator).
  const calls = events.filter((e) => e.event === 'provider_call').sort((a, b) => a.at - b.at);
  if (calls.length === submits.length) {
    const submitOf = new Map(calls.map((c, k) => [c.jobId, submits[k]!]));
    const detect: number[] = [];
    const heard: number[] = [];
    const wake: number[] = [];
    const wakeParked: number[] = [];
    const granted: number[] = [];
    const granting: number[] = [];
    let byCallback = 0;
    let claimedInGrant = 0;
    const send = calls.map((c, k) => submits[k]! - c.at);
    for (const [jobId, m] of byJob) {
      const completed = m.get('completed');
      const submit = submitOf.get(jobId);
      if (!completed || submit === undefined) continue;
      // The slot frees in the API's hook when KIE's callback comes first (drizzle/0019), else at 'completed'.
      const freed = slotFreed(m)!;
      detect.push(freed.at - (submit + TASK_MS));
      if (m.get('task_end_heard')) byCallback++;
      const callback = m.get('callback');
      if (callback) heard.push(callback.at - (submit + TASK_MS));
      const next = calls.find((c) => c.at >= freed.at && (byJob.get(c.jobId)?.get('waiting')?.at ?? Infinity) < freed.at);
      if (!next) continue;
      wake.push(next.at - freed.at);
      // Granted while parked in its workflow: its activity came for the slot later ('slot_taken', resume_job).
      const taken = byJob.get(next.jobId)?.get('slot_taken');
      if (taken && taken.at >= freed.at) wakeParked.push(next.at - freed.at);
      // The next job's grant is in the freeing transaction ('started'), and so is its start when the grant could claim it
      // (drizzle/0033: 'provider_call' inGrant); else the start is the worker's claim_start after the NOTIFY.
      const started = byJob.get(next.jobId)?.get('started');
      if (started && started.at >= freed.at) {
        granting.push(started.at - freed.at);
        granted.push(next.at - started.at);
      }
      if (next.detail.inGrant) claimedInGrant++;
    }
    const cb = bench.sims.veo3.callbacks;
    rec.note(
      `  task end -> slot freed (the API's hook on KIE's callback: ${byCallback} of ${detect.length}; else 'completed' after ` +
        `the ${VEO3_POLL_MS} ms poll and a status request): ${fmtP50P95(detect)}`,
    );
    rec.note(`    KIE callbacks: ${cb.sent} sent, ${cb.delivered} answered 2xx by the API's hook`);
    rec.note(`    task end -> the API's hook records the callback (simulator timer, HTTP, hook): ${fmtP50P95(heard)}`);
    rec.note(
      `  slot freed -> next 'provider_call' (claimed in the grant: ${claimedInGrant} of ${wake.length}; else NOTIFY, wake, ` +
        `claim_start incl. spacing waits): ${fmtP50P95(wake)}`,
    );
    rec.note(`    of which to a job parked in its workflow (its activity took the slot later): ${fmtP50P95(wakeParked)}`);
    rec.note(`    slot freed -> its grant ('started', same transaction: the rest of the release, grant_slots): ${fmtP50P95(granting)}`);
    rec.note(
      `    its grant ('started', same transaction) -> 'provider_call' (the claim in the grant; else commit, NOTIFY, wake, ` +
        `claim_start): ${fmtP50P95(granted)}`,
    );
    rec.note(
      `  'provider_call' -> submit seen by the simulator (claimed in the grant: the rest of its transaction, commit, NOTIFY, ` +
        `wake, the request; else the request): ${fmtP50P95(send)}`,
    );
  }

  // The floor under both hand-overs, after both runs (it must not disturb them): what one hop costs on this machine.
  const hops = await measureHops(bench.db.url);
  rec.figure({
    metric: 'one hop between idle processes on this machine: HTTP round trip / PostgreSQL round trip / NOTIFY heard, p50',
    value: [hops.http, hops.pg, hops.notify].map((v) => fmtFineMs(percentile(v, 50))).join(' / '),
    target: '-',
    bullmq: '-',
    met: null,
  });
  rec.note(
    `one hop, each after 50 ms idle (bench/hops.ts): HTTP round trip ${fmtP50P95(hops.http, fmtFineMs)}, PostgreSQL ` +
      `round trip ${fmtP50P95(hops.pg, fmtFineMs)} (back to back ${fmtP50P95(hops.pgBusy, fmtFineMs)}), ` +
      `NOTIFY heard ${fmtP50P95(hops.notify, fmtFineMs)}`,
  );
  rec.note(
    '  after the render ends, our hand-over makes: an HTTP request (KIE callback -> API), a PostgreSQL round trip ' +
      "(hear_callback: the release, the grant and its start claimed in it, a commit), a NOTIFY (-> the next job's worker), " +
      'an HTTP request (the submit), and a PostgreSQL round trip more (claim_start) when the spacing kept the grant from ' +
      "claiming; BullMQ's: an HTTP request (callback -> its worker), an HTTP " +
      'round trip (record-info), a Redis round trip (job finished, the next one taken), an HTTP request (the submit)',
  );
}
