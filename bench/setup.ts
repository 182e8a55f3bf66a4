/**
 * What every scenario runs against, assembled once per bench run the way
 * test/helpers/harness.ts does it, minus vitest (its `inject` only exists
 * inside a test run):
 *
 * - a real Temporal dev server on 7633/8633, in memory (reused if one is up),
 *   or with `--cluster` the Temporal server on PostgreSQL (src/dev/temporal-cluster.ts)
 *   on 7643, its own databases `bench_temporal` and `bench_temporal_visibility`, kept between runs;
 * - a throwaway PostgreSQL database (createTestDatabase), dropped at the end;
 * - the five provider simulators, in this process (so their counters are
 *   readable directly);
 * - two real worker processes (src/workers/main.ts) at LOG_LEVEL warn;
 * - the API, in this process, for its KIE callback hook (callbacks on, as in production);
 * - a client and the operator service, i.e. the enqueue/cancel API.
 *
 * Caps and spacing live in provider_limits and the gate reads them on every
 * grant, so scenarios change them with SQL (prepare) and share one worker pair.
 * The poll interval is the one process-side limit: 10 ms for every provider,
 * fixed at worker start.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { getTableName } from 'drizzle-orm';
import { buildApiServer } from '../src/api/server';
import { SERVER_POOL_IDLE_MS } from '../src/db/client';
import * as schema from '../src/db/schema';
import { effectiveLimits, loadEnv } from '../src/config/env';
import { PROVIDERS, type Provider } from '../src/config/providers';
import { startTemporalCluster } from '../src/dev/temporal-cluster';
import { startTemporalServer } from '../src/dev/temporal-server';
import { SIMULATOR_NAMES, startSimulators, type Simulators } from '../src/simulators/index';
import { createLogger } from '../src/logger';
import { createRecommendationService, type RecommendationService } from '../src/services/recommendations';
import { CAPACITY_WORKFLOW } from '../src/shared/workflow-ids';
import { freePort } from '../test/helpers/processes';
import { createTestDatabase, type TestDatabase } from '../test/helpers/test-db';
import { spawnBenchWorker, type BenchWorker, type WorkerSpec } from './workers';
import { autovacuumForRun } from './autovacuum';

const TEMPORAL_PORT = 7633;
const TEMPORAL_UI_PORT = 8633;
/** The dev server's Prometheus endpoint (the backlog scenario reads its request counter). */
const TEMPORAL_METRICS_PORT = 9633;
/** Apart from the dev server's ports, so a dev server left running (or reused) never answers for the cluster. */
const CLUSTER_PORT = 7643;

/** Which Temporal server a bench pass runs on. */
export type TemporalKind = 'dev' | 'cluster';
export const TEMPORAL_KINDS: Record<TemporalKind, string> = {
  dev: 'dev server',
  cluster: 'cluster',
};
export const POLL_INTERVAL_MS = 10;
/** Activities per worker process and provider queue: the 1000 waiting P3 jobs must all fit. */
const ACTIVITY_SLOTS = 2_000;

export interface LimitsPatch {
  maxConcurrent?: number;
  minStartIntervalMs?: number;
  /** provider_limits.start_margin_ms (START_MARGIN_MS, 100 ms, unless a scenario says otherwise). */
  startMarginMs?: number;
}

export interface ScenarioSetup {
  /** Per-provider cap/spacing; providers not named get DEFAULT_LIMITS. */
  limits?: Partial<Record<Provider, LimitsPatch>>;
  /** Simulated processing time per provider (ms); providers not named are instant. */
  durations?: Partial<Record<Provider, number>>;
  /**
   * provider_quotas changes by quota name (SQL SET clauses). Quotas not named are out of the
   * way (a limit no scenario reaches), and every scenario starts with nothing spent or parked.
   */
  quotas?: Record<string, string>;
}

/**
 * What a scenario leaves in the database (isolate() empties them): ideas and their jobs, events, parts, slots, quota use,
 * media, metrics, the channels discovery found and the notifications sent. Configuration (limits, quotas, costs,
 * tokens), reference data (players, fixtures) and the audit log (append-only: its trigger refuses a TRUNCATE) stay.
 */
export const SCENARIO_TABLES = [
  schema.competitorChannels,
  schema.competitiveVideos,
  schema.competitiveRecommendations,
  schema.automationQueue,
  schema.jobEvents,
  // Every table that references one truncated here is truncated with it: job_parts (0048) was not, and from then on
  // each isolate() failed, leaving every scenario the rows of the ones before it.
  schema.jobParts,
  schema.providerSlots,
  schema.quotaUsage,
  schema.postMetrics,
  schema.postMetricSeries,
  schema.videoAssets,
  schema.notificationsSent,
  schema.approvalReminders,
].map((t) => `"${getTableName(t)}"`);

/** Providers a scenario does not look at: uncapped for practical purposes and unspaced. */
const DEFAULT_LIMITS: Required<LimitsPatch> = { maxConcurrent: 50, minStartIntervalMs: 0, startMarginMs: 100 };

/**
 * The workers' REELFLOW_LIMITS: every provider uncapped-ish and polled every POLL_INTERVAL_MS, unless `pollMs` or
 * `caps` say otherwise for some. A worker writes these caps into the table when it starts (prepare() then sets a
 * scenario's own); the poll interval is only read from the environment.
 */
export function workerLimits(pollMs: Partial<Record<Provider, number>> = {}, caps: Partial<Record<Provider, number>> = {}): string {
  return JSON.stringify(
    Object.fromEntries(
      PROVIDERS.map((p) => [
        p,
        { maxConcurrent: caps[p] ?? DEFAULT_LIMITS.maxConcurrent, minStartIntervalMs: 0, pollIntervalMs: pollMs[p] ?? POLL_INTERVAL_MS },
      ]),
    ),
  );
}

export interface Bench {
  /** pid and metricsUrl: only for a server this bench started (a reused dev server has neither). */
  temporal: {
    kind: TemporalKind;
    address: string;
    pid?: number;
    metricsUrl?: string;
    /** kill -9 of the server, then a start on the same state; only where the state outlives the process (the cluster). */
    crashAndRestart?: () => Promise<void>;
  };
  sims: Simulators;
  db: TestDatabase;
  client: Client;
  service: RecommendationService;
  taskQueue: string;
  /** Rows of a query on the bench database. */
  q<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** The two worker processes, started on first use. */
  workers(): Promise<BenchWorker[]>;
  /** One more worker process (a deploy's replacement), added to workers(). */
  addWorker(spec: WorkerSpec): Promise<BenchWorker>;
  /** Stops every worker process and starts `specs` anew with `env` added (e.g. REELFLOW_LINE); workers() names them. */
  respawnWorkers(specs: readonly WorkerSpec[], env?: Record<string, string>): Promise<BenchWorker[]>;
  /**
   * Leaves nothing of a scenario behind: terminates its open workflows (the capacity workflow stays), closes
   * open jobs, frees every slot and empties what it wrote (SCENARIO_TABLES). Returns how many workflows it terminated.
   */
  isolate(): Promise<number>;
  /** Fresh simulators and the limits a scenario asks for. */
  prepare(setup: ScenarioSetup): Promise<void>;
  close(): Promise<void>;
}

/**
 * Undo steps, run in reverse order (workers before the database they write
 * to, the database before Temporal). Shared with run.ts so Ctrl-C during
 * set-up still cleans up what was started; a second run() waits for the first.
 */
export class Cleanups {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private running: Promise<void> | undefined;
  constructor(private readonly log: (msg: string) => void) {}
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length) await this.steps.pop()!().catch((err) => this.log(`cleanup: ${String(err)}`));
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}

/** The Temporal server a pass runs on, started (or reused, for the dev server) and stopped by `cleanups`. */
async function startTemporal(kind: TemporalKind, log: (msg: string) => void, cleanups: Cleanups): Promise<Bench['temporal']> {
  if (kind === 'dev') {
    log(`Temporal dev server on 127.0.0.1:${TEMPORAL_PORT} ...`);
    const dev = await startTemporalServer({
      port: TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      metricsPort: TEMPORAL_METRICS_PORT,
      logFile: '/tmp/reelflow-bench-temporal.log',
    });
    cleanups.push(() => dev.stop());
    return dev.process?.pid
      ? { kind, address: dev.address, pid: dev.process.pid, metricsUrl: `http://127.0.0.1:${TEMPORAL_METRICS_PORT}/metrics` }
      : { kind, address: dev.address };
  }
  const logFile = '/tmp/reelflow-bench-cluster.log';
  // The first run builds the server and its SQL tool (minutes); later runs reuse the cache and the databases.
  log(
    `Temporal server on PostgreSQL (databases bench_temporal, bench_temporal_visibility) on 127.0.0.1:${CLUSTER_PORT}, log ${logFile} ...`,
  );
  const cluster = await startTemporalCluster({ port: CLUSTER_PORT, dbPrefix: 'bench_temporal', logFile });
  cleanups.push(() => cluster.stop());
  const crashAndRestart = async () => {
    await cluster.kill();
    await cluster.restart();
  };
  return { kind, address: cluster.address, crashAndRestart };
}

export async function startBench(log: (msg: string) => void, cleanups: Cleanups, kind: TemporalKind = 'dev'): Promise<Bench> {
  const close = () => cleanups.run();
  try {
    const temporal = await startTemporal(kind, log, cleanups);

    const running = await startSimulators({ taskDurationMs: 0 });
    cleanups.push(() => running.stop());
    const sims = running.sims;

    // KIE callbacks on, as in production: the API's hook turns a finished render into a NOTIFY
    // that wakes its poller; the 10 ms poll stays as the fallback.
    const callbackSecret = randomBytes(16).toString('hex');
    const apiPort = await freePort();

    const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
    const mediaDir = path.join(os.tmpdir(), `reelflow-media-${taskQueue}`);
    cleanups.push(() => fs.rm(mediaDir, { recursive: true, force: true }));
    const workerEnv: Record<string, string> = {
      ...running.env,
      TEMPORAL_ADDRESS: temporal.address,
      REELFLOW_TASK_QUEUE: taskQueue,
      REELFLOW_LIMITS: workerLimits(),
      REELFLOW_WORKER_ACTIVITY_SLOTS: String(ACTIVITY_SLOTS),
      LOG_LEVEL: 'warn',
      KIE_CALLBACK_SECRET: callbackSecret,
      KIE_CALLBACK_URL: `http://127.0.0.1:${apiPort}/hooks/kie/${callbackSecret}`,
      // One render per idea unless a scenario asks for a reel (jobConfig.reel); reels are cut into mediaDir.
      REELFLOW_REEL_MODE: 'clip',
      REELFLOW_MEDIA_DIR: mediaDir,
      REELFLOW_MEDIA_BASE_URL: `http://127.0.0.1:${apiPort}/media`,
    };
    const vacuum = await autovacuumForRun();
    cleanups.push(vacuum.restore);
    log(vacuum.note);
    // The enqueue and the callback hook run here, as the API's do: with the API's pool.
    const db = await createTestDatabase(effectiveLimits(loadEnv(workerEnv)), { idleMs: SERVER_POOL_IDLE_MS });
    cleanups.push(() => db.drop());
    workerEnv.DATABASE_URL = db.url;
    log(`database ${db.name}, task queue ${taskQueue}`);

    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    const service = createRecommendationService({ database: db.database, client, taskQueue });
    const api = await buildApiServer({
      database: db.database,
      service,
      env: { TEMPORAL_UI_URL: `http://127.0.0.1:${TEMPORAL_UI_PORT}`, TEMPORAL_NAMESPACE: 'default', KIE_CALLBACK_SECRET: callbackSecret },
      log: createLogger('warn', 'bench-api'),
      mediaDir,
    });
    await api.listen({ host: '127.0.0.1', port: apiPort });
    cleanups.push(() => api.close());

    const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
      (await db.database.pool.query(text, params)).rows as T[];

    const spawnSet = async (specs: readonly WorkerSpec[], env: Record<string, string>) => {
      log(`starting ${specs.length} worker processes ...`);
      const started = await Promise.allSettled(specs.map((spec) => spawnBenchWorker(spec, env, client, taskQueue)));
      const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      for (const w of ok) cleanups.push(() => w.kill());
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return ok;
    };
    let pair: Promise<BenchWorker[]> | undefined;
    /** The environment of the workers now running: a replacement (addWorker) gets the same. */
    let currentEnv = workerEnv;
    const workers = () => {
      pair ??= spawnSet(['A', 'B'], workerEnv);
      return pair;
    };
    const respawnWorkers = async (specs: readonly WorkerSpec[], env: Record<string, string> = {}) => {
      const old = await workers().catch(() => []);
      await Promise.all(old.map((w) => w.kill()));
      currentEnv = { ...workerEnv, ...env };
      pair = spawnSet(specs, currentEnv);
      return pair;
    };

    const isolate = async () => {
      const open: string[] = [];
      const query = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running' AND WorkflowType != '${CAPACITY_WORKFLOW}'`;
      for await (const wf of client.workflow.list({ query })) open.push(wf.workflowId);
      // Closed first: the workers' ended-run watch would otherwise close each terminated idea and tell the team, a
      // notification workflow each, while the next scenario runs.
      await q(`UPDATE competitive_recommendations SET status = 'cancelled', error = 'bench: scenario isolation'
                WHERE status IN ('pending', 'in_production')`);
      await Promise.all(
        open.map((id) =>
          client.workflow
            .getHandle(id)
            .terminate('bench: scenario isolation')
            .catch(() => undefined),
        ),
      );
      await q(`UPDATE automation_queue SET status = 'cancelled', waiting_since = NULL, parked = false, error = 'bench: scenario isolation'
                WHERE status IN ('queued', 'processing')`);
      await q(`DELETE FROM provider_slots`);
      // Then its history: a scenario starts on an empty database. Kept, the last scenario's jobs fed the next one's
      // reads: the ETA's run times (the last hour's median: throughput's instant renders made utilisation's 2 s ones
      // look shorter, p50 5.5 s off instead of 60 ms in a full run) and the dashboard's and the report's reads (103 and
      // 285 ms on the "empty database" of history, after the backlog's 11,000 jobs, against 11 and 10 ms alone).
      await q(`TRUNCATE ${SCENARIO_TABLES.join(', ')}`);
      return open.length;
    };

    const addWorker = async (spec: WorkerSpec) => {
      const list = await workers();
      const w = await spawnBenchWorker(spec, currentEnv, client, taskQueue);
      cleanups.push(() => w.kill());
      list.push(w);
      return w;
    };

    const prepare = async (setup: ScenarioSetup) => {
      // Workers sync provider_limits from their env when they start: start them before overriding.
      await workers();
      running.reset();
      for (const p of SIMULATOR_NAMES) sims[p].setFaults({ taskDurationMs: setup.durations?.[p] ?? 0 });
      for (const p of PROVIDERS) {
        const l = { ...DEFAULT_LIMITS, ...setup.limits?.[p] };
        // last_start_at = NULL: the previous scenario's last start must not space this one's first.
        await q(
          `UPDATE provider_limits SET max_concurrent = $2, min_start_interval_ms = $3, start_margin_ms = $4,
                  last_start_at = NULL, updated_at = now() WHERE provider = $1`,
          [p, l.maxConcurrent, l.minStartIntervalMs, l.startMarginMs],
        );
      }
      await q(`DELETE FROM quota_usage`);
      await q(`UPDATE provider_quotas SET quota_limit = 1e9, parked_until = NULL, reported_at = NULL, reported_remaining = NULL`);
      for (const [name, set] of Object.entries(setup.quotas ?? {})) await q(`UPDATE provider_quotas SET ${set} WHERE name = $1`, [name]);
      const leftovers = await q<{ n: number }>(`SELECT count(*)::int AS n FROM provider_slots`);
      if (leftovers[0]!.n > 0) log(`warning: ${leftovers[0]!.n} provider slot(s) still held from an earlier scenario`);
    };

    return { temporal, sims, db, client, service, taskQueue, q, workers, addWorker, respawnWorkers, isolate, prepare, close };
  } catch (err) {
    await close();
    throw err;
  }
}
