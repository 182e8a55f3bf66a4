/** Helpers the scenarios share: enqueueing in bulk, waiting, reading job events, statistics. */
import type { EnqueueResult } from '../src/services/recommendations';
import type { Provider } from '../src/config/providers';
import type { Bench } from './setup';
import { RECOMMENDATION_WORKFLOW } from '../src/shared/workflow-ids';

import { waitUntil } from '../test/helpers/wait';

export { waitUntil };

/** A valid enqueue body publishing to Instagram only: one publish job per workflow. */
export function recommendation(title: string, overrides: Record<string, unknown> = {}) {
  return {
    title,
    type: 'player_spotlight',
    priority: 'P1',
    targetPlayer: 'carlos-alvarez',
    ourData: { price: 6.2, points: 58, recentForm: 7.4 },
    jobConfig: { platforms: ['instagram'] },
    ...overrides,
  };
}

import { mapLimit } from '../src/shared/map-limit';

export { mapLimit };

/**
 * Operator calls in flight at once. The bench's pool has 10 connections and a
 * caller waiting longer than 5 s for one fails, so more would only queue.
 */
export const CALLERS = 10;

/** Enqueues through the operator service (row + workflow start), CALLERS at a time. */
export function enqueueMany(bench: Bench, inputs: readonly unknown[]): Promise<EnqueueResult[]> {
  return mapLimit(inputs, CALLERS, (input) => bench.service.enqueue(input));
}

/** Waits for every workflow to close; throws (naming how many are left) after `timeoutMs`. */
export async function waitForWorkflows(bench: Bench, workflowIds: readonly string[], timeoutMs: number): Promise<void> {
  let done = 0;
  const all = Promise.all(
    workflowIds.map((id) =>
      bench.client.workflow
        .getHandle(id)
        .result()
        .catch(() => undefined) // a failed workflow is closed too; the scenario counts outcomes from the database
        .then(() => void done++),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${workflowIds.length - done} of ${workflowIds.length} workflows still open after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the `step` job of every recommendation waits in its provider's line. */
export async function waitInLine(
  bench: Bench,
  recommendationIds: readonly string[],
  step: string,
  opts: { timeoutMs: number; progress?: (inLine: number) => void },
): Promise<void> {
  let lastProgress = 0;
  await waitUntil(
    async () => {
      const [row] = await bench.q<{ n: number }>(
        `SELECT count(*)::int AS n FROM automation_queue WHERE recommendation_id = ANY($1::uuid[]) AND step = $2
            AND status = 'queued' AND waiting_since IS NOT NULL`,
        [recommendationIds, step],
      );
      if (opts.progress && Date.now() - lastProgress > 10_000) {
        opts.progress(row!.n);
        lastProgress = Date.now();
      }
      return row!.n === recommendationIds.length;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 200, what: `${recommendationIds.length} '${step}' jobs in line` },
  );
}

/**
 * Changes a provider's cap now and hands out what it frees, as an operator
 * would (the gate reads the cap at every grant; 0 pauses the provider).
 */
export async function setCap(bench: Bench, provider: Provider, cap: number): Promise<void> {
  await bench.q(`UPDATE provider_limits SET max_concurrent = $2, updated_at = now() WHERE provider = $1`, [provider, cap]);
  if (cap > 0) await bench.q(`SELECT grant_slots($1)`, [provider]);
}

export interface JobEvent {
  id: number;
  jobId: string;
  recommendationId: string;
  step: string;
  provider: Provider;
  event: string;
  detail: Record<string, unknown>;
  /** Epoch ms, database clock (same host as the simulators' clock). */
  at: number;
}

/** Every event of the jobs of these recommendations, in insertion order. */
export async function jobEvents(bench: Bench, recommendationIds: readonly string[], provider?: Provider): Promise<JobEvent[]> {
  const rows = await bench.q<{
    id: string;
    job_id: string;
    recommendation_id: string;
    step: string;
    api_provider: Provider;
    event: string;
    detail: Record<string, unknown>;
    at: Date;
  }>(
    `SELECT e.id, e.job_id, j.recommendation_id, j.step, j.api_provider, e.event, e.detail, e.created_at AS at
       FROM job_events e JOIN automation_queue j ON j.id = e.job_id
      WHERE j.recommendation_id = ANY($1::uuid[]) AND ($2::text IS NULL OR j.api_provider = $2)
      ORDER BY e.id`,
    [recommendationIds, provider ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    jobId: r.job_id,
    recommendationId: r.recommendation_id,
    step: r.step,
    provider: r.api_provider,
    event: r.event,
    detail: r.detail,
    at: r.at.getTime(),
  }));
}

/** First event of each kind per job: byJob.get(jobId)?.get('started'). */
export function firstEventByJob<E extends Pick<JobEvent, 'jobId' | 'event' | 'at'>>(events: readonly E[]): Map<string, Map<string, E>> {
  const byJob = new Map<string, E[]>();
  for (const e of events) {
    const own = byJob.get(e.jobId);
    if (own) own.push(e);
    else byJob.set(e.jobId, [e]);
  }
  return new Map([...byJob].map(([jobId, own]) => [jobId, firstEvents(own)]));
}

/** One job's events by name, the first of each. */
export function firstEvents<E extends Pick<JobEvent, 'event'>>(events: readonly E[]): Map<string, E> {
  const m = new Map<string, E>();
  for (const e of events) if (!m.has(e.event)) m.set(e.event, e);
  return m;
}

/**
 * When a job's slot went to the next one: KIE's callback when the API's hook freed it (task_end_heard, drizzle/0019;
 * the job completes later, once its poller has read the status), else the job's completion.
 */
export function slotFreed<E>(firstEvents: ReadonlyMap<string, E>): E | undefined {
  return firstEvents.get('task_end_heard') ?? firstEvents.get('completed');
}

/** Each job's run from one event to another (e.g. 'provider_call' -> 'completed'); jobs missing either are left out. */
export function runsBetween<E extends Pick<JobEvent, 'at'>>(byJob: Map<string, Map<string, E>>, from: string, to: string) {
  return [...byJob.values()].flatMap((m) => {
    const a = m.get(from);
    const b = m.get(to);
    return a && b ? [{ from: a.at, to: b.at }] : [];
  });
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
export const fmtS = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');

/** Sub-10 ms figures keep a decimal, sub-millisecond ones two: a hop, or a lookup through an index. */
export const fmtFineMs = (ms: number) => (!Number.isFinite(ms) || ms >= 10 ? fmtMs(ms) : `${ms.toFixed(ms < 1 ? 2 : 1)} ms`);

/** "p50 12 ms / p95 40 ms (n=30)" */
export function fmtP50P95(values: readonly number[], fmt: (ms: number) => string = fmtMs): string {
  return `p50 ${fmt(percentile(values, 50))} / p95 ${fmt(percentile(values, 95))} (n=${values.length})`;
}

/**
 * Jobs of `ids` in VEO3's line as the grant sees it (parked, or heartbeated by a waiting activity); with `servedSince`,
 * only those parked or heartbeated since then (an activity that died with its worker is still 'in line' for 20 s).
 */
export async function inLine(bench: Bench, ids: readonly string[], servedSince: Date | null = null): Promise<number> {
  const rows = await bench.q<{ n: number }>(
    `SELECT count(*)::int AS n FROM automation_queue q
      WHERE q.step = 'generate' AND q.recommendation_id = ANY($1::uuid[]) AND in_line(q)
        AND ($2::timestamptz IS NULL OR q.parked OR q.last_heartbeat_at > $2)`,
    [ids, servedSince],
  );
  return rows[0]!.n;
}

/** Generate jobs of `ids` still queued (in line or not yet joined). */
export async function stillQueued(bench: Bench, ids: readonly string[]): Promise<number> {
  const rows = await bench.q<{ n: number }>(
    `SELECT count(*)::int AS n FROM automation_queue WHERE step = 'generate' AND recommendation_id = ANY($1::uuid[]) AND status = 'queued'`,
    [ids],
  );
  return rows[0]!.n;
}

/** Jobs of `ids` (any step) still open: queued or processing. */
export async function openJobs(bench: Bench, ids: readonly string[]): Promise<number> {
  const rows = await bench.q<{ n: number }>(
    `SELECT count(*)::int AS n FROM automation_queue WHERE recommendation_id = ANY($1::uuid[]) AND status IN ('queued', 'processing')`,
    [ids],
  );
  return rows[0]!.n;
}

/** Recommendation workflows still running on the bench's task queue (Temporal's visibility). */
async function runningRecommendations(bench: Bench): Promise<number> {
  const query = `TaskQueue = '${bench.taskQueue}' AND WorkflowType = '${RECOMMENDATION_WORKFLOW}' AND ExecutionStatus = 'Running'`;
  return (await bench.client.workflow.count(query)).count;
}

/**
 * `reelflow cancel <id> <id> ...` of `ids` (service.cancelMany), with the line watched while it runs: the jobs leave
 * their lines first, then each workflow is asked. emptyMs: until no job of `ids` is open; askedMs: until the command
 * returned; closedMs: until every workflow of `ids` has closed (each runs its clean-up first), NaN when `stillOpen`
 * were still running `closedTimeoutMs` after the command returned. Throws what the command threw, or when the line is not
 * empty within `timeoutMs`.
 */
export async function cancelAndWatch(
  bench: Bench,
  ids: readonly string[],
  timeoutMs: number,
  closedTimeoutMs = 0,
): Promise<{ emptyMs: number; askedMs: number; closedMs: number; stillOpen: number }> {
  // Others may run beside them (a P0 publishing): what is running now, less the backlog, is left when it has closed.
  const others = closedTimeoutMs ? (await runningRecommendations(bench)) - ids.length : 0;
  const t0 = Date.now();
  let askedMs = NaN;
  let failure: Error | undefined;
  const asked = bench.service.cancelMany(ids).then(
    () => void (askedMs = Date.now() - t0),
    (err: Error) => void (failure = err),
  );
  await waitUntil(async () => failure !== undefined || (await openJobs(bench, ids)) === 0, {
    what: 'the line empty',
    timeoutMs,
    intervalMs: 50,
  });
  const emptyMs = Date.now() - t0;
  await asked;
  if (failure) throw failure;
  let closedMs = NaN;
  let stillOpen = 0;
  if (closedTimeoutMs) {
    await waitUntil(async () => (stillOpen = Math.max(0, (await runningRecommendations(bench)) - others)) === 0, {
      what: 'every cancelled workflow closed',
      timeoutMs: closedTimeoutMs,
      intervalMs: 500,
    }).then(
      () => void (closedMs = Date.now() - t0),
      () => undefined,
    );
  }
  return { emptyMs, askedMs, closedMs, stillOpen };
}
