/**
 * Backlog: a week of ideas waiting for VEO3 (cap 1, held by a blocker whose render does not end until the
 * bench lets it), mixed priorities, across the three worker processes docker-compose runs (SHIPPED_WORKERS). What
 * waiting costs, and what the line still does well with that many in it:
 *
 * - fill: every job enqueued (row + workflow + analysis) and in VEO3's line, jobs per second;
 * - idle: a minute with nothing but waiting, once the fill settled, CPU of the workers, Temporal and PostgreSQL (% of
 *   one core), PostgreSQL transactions/s and connections, Temporal requests/s (the busiest of each named), and each
 *   worker's memory (also when a tenth of the line was in, to see whether memory grows with the backlog);
 * - P0: one arrives behind the backlog; slot release -> its provider call, and how many jumped it;
 * - restart: one worker process stopped (SIGTERM) and replaced: time until every job is back in line;
 * - cancel: every waiting workflow cancelled through the operator service: time until the line is empty.
 *
 * Two passes in the same run: the durable line (REELFLOW_LINE=parked, the default: jobs beyond the head
 * wait in their workflows) with BACKLOG_JOBS, then the design before it (REELFLOW_LINE=activity: every
 * waiting job holds a heartbeating activity) with BEFORE_JOBS, smaller because it does not get through
 * ten thousand on this machine. Sizes: BENCH_BACKLOG_JOBS, BENCH_BACKLOG_BEFORE_JOBS.
 */
import pg from 'pg';
import {
  cancelAndWatch,
  enqueueMany,
  fmtMs,
  firstEvents,
  fmtS,
  inLine,
  jobEvents,
  recommendation,
  setCap,
  slotFreed,
  stillQueued,
  waitUntil,
} from '../measure';
import { atLeast, atMost, type Recorder, type Scenario } from '../scenario';
import { workerLimits, type Bench } from '../setup';
import { SHIPPED_WORKERS, type BenchWorker } from '../workers';
import type { Priority } from '../../src/config/priorities';
import { sleep } from '../../src/shared/sleep';
import { ACTIVITY_STARTED } from '../../src/temporal/client';
import {
  cpuBetween,
  cpuByPid,
  postgresByRole,
  postgresCpu,
  processTree,
  ratesBetween,
  rssMb,
  temporalRequests,
  PG_ROLES,
} from '../procstat';

const BACKLOG_JOBS = Number(process.env.BENCH_BACKLOG_JOBS ?? 10_000);
const BEFORE_JOBS = Number(process.env.BENCH_BACKLOG_BEFORE_JOBS ?? 1_000);
/** Share of each priority in the backlog (the P0 comes later, alone). */
const MIX: ReadonlyArray<[Priority, number]> = [
  ['P1', 0.1],
  ['P2', 0.3],
  ['P3', 0.6],
];
/**
 * One minute: Temporal's long polls (10 per queue per worker process, 12 queues) expire after a minute, and after a
 * burst (the workers' start, the fill) they expire together. A 20 s window counted such a wave of a few hundred polls
 * whole or not at all: PollActivityTaskQueue read 28-33/s in one run and under 0.3/s in the next (about 6/s on average).
 */
const IDLE_WINDOW_MS = 60_000;
/**
 * How long the system is left alone before a window that counts as "only waiting": a burst (the workers' start, the
 * fill) leaves a tail behind it. At 10,000: the long polls the fill left open all come back together about a minute
 * later (Temporal ~16 requests/s 25-45 s after the fill), and PostgreSQL's autovacuum goes over the fill's rows.
 * The first window right after the fill is still measured and printed, as the tail.
 */
const SETTLE_MS = 75_000;
const TARGETS = { idleCpuPct: 5, p0WaitMs: 50, fillPerS: 100, cancelS: 5 };
/** The fill's bound: 15 minutes, or 150 ms a job for a bigger backlog (10,000 fill at about 8/s on 2 saturated cores). */
const LINE_TIMEOUT_MS = Math.max(900_000, BACKLOG_JOBS * 150);
const P0_TASK_MS = 3_000;
/**
 * After the cancel returned, how long the scenario waits for every cancelled workflow to close. Each runs a workflow
 * task (a replay, past the workflow cache), its clean-up activity and one more task: the 2026-12-01 run of 10,000
 * ended with 4,814 still open when it stopped waiting for them.
 */
const CLOSED_TIMEOUT_MS = Math.max(300_000, BACKLOG_JOBS * 60);

type Mode = 'parked' | 'activity';

interface IdleCost {
  /** Workers + Temporal + PostgreSQL, % of one core. */
  cpuPct: number;
  parts: string;
  pgXactPerS: number;
  pgConnections: number;
  temporalReqPerS: number;
  /** Where those go: the busiest Temporal operations and database functions, per second. */
  temporalTop: Array<[string, number]>;
  pgFunctionsTop: Array<[string, number]>;
  /** VEO3 jobs waiting hot (an activity running, heartbeating) at the window's end, and the hot line's size. */
  hot: { waiting: number; lineSize: number };
}

interface CpuSample {
  workers: Map<number, number>;
  temporal: Map<number, number>;
  postgres: Map<string, number>;
}

const cpuSample = (bench: Bench, workers: readonly BenchWorker[]): CpuSample => ({
  workers: cpuByPid(workers.flatMap((w) => processTree(w.pid))),
  temporal: cpuByPid(bench.temporal.pid ? processTree(bench.temporal.pid) : []),
  postgres: postgresCpu(),
});

/** Each part's CPU between two samples, as % of one core over `secs`. */
function cpuParts(a: CpuSample, b: CpuSample, secs: number): { total: number; text: string; perJob: (jobs: number) => string } {
  const pgRoles = postgresByRole(a.postgres, b.postgres);
  // CPU seconds of each part between the samples.
  const used: Record<keyof CpuSample, number> = {
    workers: cpuBetween(a.workers, b.workers),
    temporal: cpuBetween(a.temporal, b.temporal),
    postgres: PG_ROLES.reduce((sum, r) => sum + pgRoles[r], 0),
  };
  const pct = (part: keyof CpuSample) => (used[part] / secs) * 100;
  const parts = { workers: pct('workers'), temporal: pct('temporal'), postgres: pct('postgres') };
  // CPU seconds per job, in ms: at 2 cores, 100 jobs/s leaves 20 ms a job for everything.
  const ms = (part: keyof CpuSample, jobs: number) => ((used[part] / jobs) * 1000).toFixed(0);
  return {
    total: parts.workers + parts.temporal + parts.postgres,
    text:
      `workers ${parts.workers.toFixed(1)} %, Temporal ${parts.temporal.toFixed(1)} %, PostgreSQL ${parts.postgres.toFixed(1)} % ` +
      `(${PG_ROLES.map((r) => `${r} ${((pgRoles[r] / secs) * 100).toFixed(1)}`).join(', ')})`,
    perJob: (jobs) => `workers ${ms('workers', jobs)} ms, Temporal ${ms('temporal', jobs)} ms, PostgreSQL ${ms('postgres', jobs)} ms`,
  };
}

/** Calls of each database function so far, counted by the sessions that opened after the scenario set track_functions (the workers'). */
async function functionCalls(bench: Bench): Promise<Map<string, number>> {
  const rows = await bench.q<{ funcname: string; calls: string }>(`SELECT funcname, calls FROM pg_stat_user_functions`);
  return new Map(rows.map((r): [string, number] => [r.funcname, Number(r.calls)]));
}

/** `top` rates as "name 1.2, name 0.4" (per second, or per job when the seconds are the job count). */
const fmtRates = (top: Array<[string, number]>) => top.map(([name, rate]) => `${name} ${rate.toFixed(1)}`).join(', ');

/** IDLE_WINDOW_MS of whatever the system does now: CPU of each part, PostgreSQL and Temporal request rates. */
async function idleCost(bench: Bench, workers: readonly BenchWorker[]): Promise<IdleCost> {
  const sample = () => cpuSample(bench, workers);
  const pg = async () =>
    (
      await bench.q<{ xacts: string; conns: number }>(
        `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()) AS xacts,
                (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database()) AS conns`,
      )
    )[0]!;
  const functions = () => functionCalls(bench);
  const cpu0 = sample();
  const pg0 = await pg();
  const fn0 = await functions();
  const req0 = await temporalRequests(bench.temporal.metricsUrl);
  const t0 = Date.now();
  await sleep(IDLE_WINDOW_MS);
  const secs = (Date.now() - t0) / 1000;
  const cpu1 = sample();
  const pg1 = await pg();
  const fn1 = await functions();
  const req1 = await temporalRequests(bench.temporal.metricsUrl);
  const parts = cpuParts(cpu0, cpu1, secs);
  const temporalTop = ratesBetween(req0, req1, secs);
  return {
    cpuPct: parts.total,
    parts: parts.text,
    // Less this bench's own readings.
    pgXactPerS: (Number(pg1.xacts) - Number(pg0.xacts) - 2) / secs,
    pgConnections: pg1.conns,
    temporalReqPerS: temporalTop.reduce((sum, [, r]) => sum + r, 0),
    temporalTop: temporalTop.slice(0, 5),
    pgFunctionsTop: ratesBetween(fn0, fn1, secs).slice(0, 6),
    hot: (
      await bench.q<{ waiting: number; lineSize: number }>(
        `SELECT (SELECT count(*)::int FROM automation_queue WHERE api_provider = 'veo3' AND status = 'queued'
                   AND waiting_since IS NOT NULL AND NOT parked) AS "waiting",
                hot_line_size('veo3') AS "lineSize"`,
      )
    )[0]!,
  };
}

interface PassResult {
  jobs: number;
  fillS: number;
  /** Where the CPUs went while it filled (% of one core; the machine has two). */
  fillCpu: string;
  /** Temporal requests per job while it filled, in all and the busiest operations. */
  fillTemporal: string;
  /** Database function calls per job while it filled, the busiest. */
  fillFunctions: string;
  /** With nothing in line and nothing rendering: the floor the backlog's cost sits on. */
  empty: IdleCost;
  /** The first window after the fill, before it settled. */
  tail: IdleCost;
  idle: IdleCost;
  rssEarly: number[];
  rssFull: number[];
  p0WaitMs: number;
  jumped: number;
  refillS: number;
  /** cancelMany started -> no job of the backlog open. */
  cancelS: number;
  /** cancelMany started -> it returned (every workflow asked to cancel). */
  cancelAskedS: number;
  /** cancelMany started -> every workflow closed (its clean-up run), or how many were still open. */
  cancelClosed: string;
}

async function pass(bench: Bench, rec: Recorder, mode: Mode, jobs: number): Promise<PassResult> {
  rec.log(`${mode} line: ${jobs} jobs, ${SHIPPED_WORKERS.length} worker processes as shipped (REELFLOW_LINE=${mode})`);
  // The blocker's render is polled every 5 s, not the bench's 10 ms (its callback ends the wait at once either
  // way): the idle window measures the waiting backlog, not one render's status reads.
  // VEO3's cap in their environment is 1 (the least it takes): the restart step's replacement writes it into the
  // table as it starts, which lets a job or two of the backlog start; the step counts those out.
  // Per-function call counts for the idle windows' breakdown, in the workers' sessions (opened below).
  await bench.q(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_functions = ''all''', current_database()); END $$`);
  const workers = await bench.respawnWorkers(SHIPPED_WORKERS, {
    REELFLOW_LINE: mode,
    REELFLOW_LIMITS: workerLimits({ veo3: 5_000 }, { veo3: 1 }),
  });
  // OpenAI only feeds the line: 50 analyses at once is plenty with an instant simulator (200 starved the pools).
  await bench.prepare({ limits: { veo3: { maxConcurrent: 1 }, openai: { maxConcurrent: 50, startMarginMs: 0 } }, durations: {} });
  bench.sims.veo3.setFaults({ neverFinish: true });

  // Nothing renders while the line fills: the blocker comes after the fill. A render holding the slot through
  // the fill is given up at twice its estimate (VEO3: 10 minutes), which a 10,000 fill on 2 cores outlasted.
  await setCap(bench, 'veo3', 0);
  await sleep(SETTLE_MS);
  const empty = await idleCost(bench, workers);

  // Fill: mixed priorities, interleaved so enqueue order does not sort them.
  const inputs = Array.from({ length: jobs }, (_, i) => {
    const at = (i % 10) / 10;
    let acc = 0;
    const priority = MIX.find(([, share]) => (acc += share) > at)?.[0] ?? 'P3';
    return recommendation(`backlog ${mode} ${i}`, { priority });
  });
  const t0 = Date.now();
  const fillCpu0 = cpuSample(bench, workers);
  const fillReq0 = await temporalRequests(bench.temporal.metricsUrl);
  const fillFn0 = await functionCalls(bench);
  let rssEarly: number[] = [];
  const enqueued = enqueueMany(bench, inputs);
  const ids = (await enqueued).map((r) => r.recommendation.id);
  rec.log(`  enqueued ${jobs} in ${fmtS(Date.now() - t0)}`);
  // The bench's poll of the line walks every job of the backlog: on a session that counts no function calls, so
  // the per-job counts below are the workers' own.
  const quietPool = new pg.Pool({ connectionString: bench.db.url, max: 1, options: '-c track_functions=none' });
  const quiet: Bench = { ...bench, q: async <T>(text: string, params?: unknown[]) => (await quietPool.query(text, params)).rows as T[] };
  try {
    await waitUntil(
      async () => {
        const n = await inLine(quiet, ids);
        if (!rssEarly.length && n >= jobs / 10) rssEarly = workers.map((w) => rssMb(processTree(w.pid)));
        return n >= jobs;
      },
      { what: `${jobs} jobs in VEO3's line`, timeoutMs: LINE_TIMEOUT_MS, intervalMs: 500 },
    );
  } finally {
    await quietPool.end();
  }
  const fillS = (Date.now() - t0) / 1000;
  const fillParts = cpuParts(fillCpu0, cpuSample(bench, workers), fillS);
  const fillCpu = `${fillParts.text}; CPU time per job: ${fillParts.perJob(jobs)}`;
  // Per job (the rates' "seconds" are the job count): what filling the line asks of Temporal and PostgreSQL.
  const fillTemporalTop = ratesBetween(fillReq0, await temporalRequests(bench.temporal.metricsUrl), jobs);
  const fillTemporal = `${fillTemporalTop.reduce((sum, [, n]) => sum + n, 0).toFixed(1)} in all: ${fmtRates(fillTemporalTop.slice(0, 10))}`;
  const fillFunctions = fmtRates(ratesBetween(fillFn0, await functionCalls(bench), jobs).slice(0, 8)) || 'none';
  rec.log(`  ${jobs} in line after ${fillS.toFixed(1)} s`);

  // The blocker: first in line (P0, ahead of the whole backlog), it takes the only slot and renders until the P0 below.
  const blocker = await bench.service.enqueue(recommendation('backlog blocker', { priority: 'P0' }));
  await waitUntil(() => inLine(bench, [blocker.recommendation.id]), { what: 'the blocker in line', timeoutMs: 60_000, intervalMs: 50 });
  await setCap(bench, 'veo3', 1);
  await waitUntil(
    async () =>
      (
        await bench.q(`SELECT 1 FROM automation_queue WHERE recommendation_id = $1 AND provider_task_id IS NOT NULL`, [
          blocker.recommendation.id,
        ])
      ).length,
    { what: 'the blocker rendering on VEO3', timeoutMs: 60_000 },
  );

  // Idle: the first window right after the fill (its tail), then one more once it settled: nothing but waiting.
  await sleep(5_000);
  const tail = await idleCost(bench, workers);
  const rssFull = workers.map((w) => rssMb(processTree(w.pid)));
  await sleep(SETTLE_MS - 5_000);
  const idle = await idleCost(bench, workers);

  // P0 behind the backlog: hot at once (it ranks first), granted first when the blocker's slot frees.
  const p0 = await bench.service.enqueue(recommendation(`backlog ${mode} P0`, { priority: 'P0' }));
  // Its activity waiting for the slot (hot), as the priority scenario's P0 is when the slot frees.
  const p0Handle = bench.client.workflow.getHandle(p0.workflowId);
  await waitUntil(
    async () =>
      (await p0Handle.describe()).raw.pendingActivities?.some(
        (a) => a.activityType?.name === 'generateVideo' && a.state === ACTIVITY_STARTED,
      ),
    { what: 'the P0 waiting for VEO3', timeoutMs: 60_000, intervalMs: 20 },
  );
  const p0Job = (
    await bench.q<{ id: string }>(`SELECT id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`, [
      p0.recommendation.id,
    ])
  )[0]!;
  bench.sims.veo3.setFaults({ neverFinish: false, taskDurationMs: P0_TASK_MS });
  const p0Event = async (event: string) =>
    (await bench.q(`SELECT 1 FROM job_events WHERE job_id = $1 AND event = $2`, [p0Job.id, event])).length > 0;
  await waitUntil(() => p0Event('started'), { timeoutMs: 30_000, intervalMs: 10, what: 'the P0 granted' });
  await setCap(bench, 'veo3', 0); // nothing of the backlog starts while it is measured and cancelled
  await waitUntil(() => p0Event('provider_call'), { timeoutMs: 30_000, intervalMs: 20, what: 'the P0 calling VEO3' });
  const released = slotFreed(firstEvents(await jobEvents(bench, [blocker.recommendation.id], 'veo3')))!.at;
  const p0Events = firstEvents(await jobEvents(bench, [p0.recommendation.id], 'veo3'));
  const p0WaitMs = p0Events.get('provider_call')!.at - released;
  const p0Started = p0Events.get('started')!;
  const jumped = (
    await bench.q<{ n: number }>(
      `SELECT count(*)::int AS n FROM job_events e JOIN automation_queue q ON q.id = e.job_id
        WHERE e.event = 'started' AND q.step = 'generate' AND q.recommendation_id = ANY($1::uuid[]) AND e.id < $2 AND e.created_at > $3`,
      [ids, p0Started.id, new Date(released - 1)],
    )
  )[0]!.n;

  // Restart: one worker process stopped as a deploy would, and replaced; the line must be whole again.
  const r0 = Date.now();
  const [gone] = workers;
  await gone!.kill('SIGTERM');
  const replacement = bench.addWorker({ name: `${gone!.name}2`, queues: gone!.queues });
  // Whole again: every job of the backlog still queued is parked or heartbeated by a live activity since the stop.
  await waitUntil(async () => (await inLine(bench, ids, new Date(r0))) >= (await stillQueued(bench, ids)), {
    what: 'the line whole again after the restart',
    timeoutMs: LINE_TIMEOUT_MS,
    intervalMs: 200,
  });
  const refillS = (Date.now() - r0) / 1000;
  await replacement;
  await setCap(bench, 'veo3', 0);

  // Cancel everything that waits, as `reelflow cancel <id> <id> ...` does: the line is emptied first, then
  // each workflow is asked to cancel.
  // A failure here must not lose the figures above: it is reported as the cancel's figure.
  let cancelS = NaN;
  let cancelAskedS = NaN;
  let cancelClosed = 'n/a';
  try {
    const c = await cancelAndWatch(bench, ids, LINE_TIMEOUT_MS, CLOSED_TIMEOUT_MS);
    cancelS = c.emptyMs / 1000;
    cancelAskedS = c.askedMs / 1000;
    cancelClosed = Number.isNaN(c.closedMs) ? `${c.stillOpen} still open after ${fmtS(CLOSED_TIMEOUT_MS)} more` : fmtS(c.closedMs);
  } catch (err) {
    rec.note(`${mode} line: cancelling everything broke: ${(err as Error).message}`);
  }
  rec.log(
    `  P0 ${fmtMs(p0WaitMs)}, restart refill ${refillS.toFixed(1)} s, ` +
      `cancel: line empty ${cancelS.toFixed(1)} s, all asked ${cancelAskedS.toFixed(1)} s, all closed ${cancelClosed}`,
  );

  return {
    jobs,
    fillS,
    fillCpu,
    fillTemporal,
    fillFunctions,
    empty,
    tail,
    idle,
    rssEarly,
    rssFull,
    p0WaitMs,
    jumped,
    refillS,
    cancelS,
    cancelAskedS,
    cancelClosed,
  };
}

const mb = (list: number[]) => list.map((v) => `${Math.round(v)}`).join(' / ') + ' MB';

export const backlog: Scenario = {
  name: 'backlog',
  summary: `${BACKLOG_JOBS} waiting jobs in the durable line, then ${BEFORE_JOBS} waiting in activities (before), 3 workers`,
  leavesServerBusy: true,
  async run(bench, rec) {
    const after = await pass(bench, rec, 'parked', BACKLOG_JOBS);
    // What breaks after the durable line's pass must not lose its figures (the dev server once lost its in-memory
    // state under the cancel of 10,000 workflows, and the isolation after it threw): it is noted, and reported.
    let broke = false;
    const tidy = (what: string) => (err: Error) => {
      broke = true;
      rec.note(`${what} broke: ${err.message}`);
    };
    await bench.isolate().catch(tidy('the isolation after the durable line'));
    const before =
      !BEFORE_JOBS || broke
        ? null
        : await pass(bench, rec, 'activity', BEFORE_JOBS).catch((err: Error) => {
            tidy(`the 'before' pass (REELFLOW_LINE=activity, ${BEFORE_JOBS} jobs)`)(err);
            return null;
          });
    // Back to the default line for the scenarios after this one.
    await bench.isolate().catch(tidy('the isolation after the backlog'));
    await bench.respawnWorkers(['A', 'B']).catch(tidy('restarting the default workers'));

    const row = (metric: string, target: string, value: (r: PassResult) => string, met: (r: PassResult) => boolean | null) =>
      rec.figure({ metric, value: `${value(after)}; before: ${before ? value(before) : 'n/a'}`, target, bullmq: '-', met: met(after) });
    row(
      `backlog size (mixed P1-P3; the P0 comes later)`,
      '10,000',
      (r) => String(r.jobs),
      (r) => r.jobs >= 10_000,
    );
    row(
      'fill: enqueued and in the line, jobs/s',
      `>= ${TARGETS.fillPerS}`,
      (r) => `${(r.jobs / r.fillS).toFixed(0)} (${r.fillS.toFixed(0)} s)`,
      (r) => atLeast(r.jobs / r.fillS, TARGETS.fillPerS),
    );
    row(
      'CPU while the backlog only waits (workers + Temporal + PostgreSQL, % of one core)',
      `< ${TARGETS.idleCpuPct} %`,
      (r) => `${r.idle.cpuPct.toFixed(1)} % (empty line: ${r.empty.cpuPct.toFixed(1)} %; fill's tail: ${r.tail.cpuPct.toFixed(1)} %)`,
      (r) => r.idle.cpuPct < TARGETS.idleCpuPct,
    );
    row(
      'memory per worker process, a tenth of the line in -> all of it',
      'flat',
      (r) => `${mb(r.rssEarly)} -> ${mb(r.rssFull)}`,
      () => null,
    );
    row(
      'PostgreSQL while waiting: transactions/s, connections',
      '-',
      (r) => `${r.idle.pgXactPerS.toFixed(1)}/s, ${r.idle.pgConnections} (empty: ${r.empty.pgXactPerS.toFixed(1)}/s)`,
      () => null,
    );
    row(
      'Temporal while waiting: requests/s',
      '-',
      (r) => `${r.idle.temporalReqPerS.toFixed(1)}/s (empty: ${r.empty.temporalReqPerS.toFixed(1)}/s)`,
      () => null,
    );
    row(
      "P0 wait: slot release -> P0 'provider_call'",
      `<= ${TARGETS.p0WaitMs} ms`,
      (r) => `${fmtMs(r.p0WaitMs)}, ${r.jumped} jumped`,
      (r) => atMost(r.p0WaitMs, TARGETS.p0WaitMs) && r.jumped === 0,
    );
    row(
      'a worker restarted -> the line whole again',
      '-',
      (r) => fmtS(r.refillS * 1000),
      () => null,
    );
    row(
      'cancel every waiting workflow (reelflow cancel <ids>): line empty; every workflow asked; every workflow closed',
      `<= ${TARGETS.cancelS} s (for 1000)`,
      (r) => `${fmtS(r.cancelS * 1000)}; ${fmtS(r.cancelAskedS * 1000)}; ${r.cancelClosed}`,
      (r) => atMost(r.cancelS, TARGETS.cancelS),
    );
    rec.note(`idle CPU by part, durable line: ${after.idle.parts} (empty line: ${after.empty.parts})`);
    // A job called up near the head and pushed back by later, higher-priority jobs stays hot up to two places behind
    // the hot line (drizzle/0021 sends it back to its workflow beyond): at most the hot line's size + 2.
    rec.note(
      `  VEO3 jobs waiting hot (their activity running) while waiting: ${after.idle.hot.waiting} ` +
        `(hot line size ${after.idle.hot.lineSize}, + 2 places before a passed one goes back to its workflow)`,
    );
    rec.note(
      `the fill's tail (the first ${IDLE_WINDOW_MS / 1000} s window, 5 s after the line was full): ${after.tail.parts}; ` +
        `Temporal ${after.tail.temporalReqPerS.toFixed(1)} requests/s, PostgreSQL ${after.tail.pgXactPerS.toFixed(1)} transactions/s`,
    );
    const perS = (top: Array<[string, number]>) => fmtRates(top) || 'none';
    rec.note(
      `  Temporal requests/s while waiting, busiest: ${perS(after.idle.temporalTop)} (empty line: ${perS(after.empty.temporalTop)})`,
    );
    rec.note(
      `  database function calls/s while waiting, busiest: ${perS(after.idle.pgFunctionsTop)} (empty: ${perS(after.empty.pgFunctionsTop)})`,
    );
    rec.note(`CPU while the line filled, durable line: ${after.fillCpu}${before ? `; before: ${before.fillCpu}` : ''}`);
    rec.note(`  Temporal requests per job while the line filled: ${after.fillTemporal}`);
    rec.note(`  database function calls per job while the line filled: ${after.fillFunctions}`);
    if (before) rec.note(`idle CPU by part, before: ${before.idle.parts} (empty line: ${before.empty.parts})`);
    rec.note(
      `before = REELFLOW_LINE=activity (every waiting job holds a heartbeating activity) with ${BEFORE_JOBS} jobs; ` +
        `the durable line ran ${BACKLOG_JOBS}. PostgreSQL CPU counts every postgres process on the machine: backends ` +
        `(every client's sessions, this bench's too), autovacuum, background (postmaster, checkpointer, writers), ended ` +
        `(processes that ended in the window, for their time in it: autovacuum workers, closed connections).`,
    );
  },
};
