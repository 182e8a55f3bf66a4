/**
 * Everything a workflow test needs, real and isolated: its own database, its
 * own task queues on the shared Temporal server, provider simulators on free
 * ports, workers in this process, a client and the operator service.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime as TemporalRuntime, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { DEV_SIGNING_KEY, loadEnv, type Env } from '../../src/config/env';
import { createLogger } from '../../src/logger';
import { startSimulators } from '../../src/simulators/index';
import { startMediaServer } from '../../src/media/store';
import { createRecommendationService, type RecommendationService } from '../../src/services/recommendations';
import { createRuntime, type Runtime } from '../../src/workers/runtime';
import type { QueueName } from '../../src/config/providers';
import { createWorkers } from '../../src/workers/workers';
import { createTestDatabase, type TestDatabase } from './test-db';

/** Fast limits for tests: no spacing, quick polls. Tests that exercise spacing/caps override them. */
const FAST_LIMITS = {
  veo3: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  openai: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  instagram: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  tiktok: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  youtube: { minStartIntervalMs: 0, pollIntervalMs: 50 },
  audio_fetch: { minStartIntervalMs: 0, pollIntervalMs: 50 },
};

export interface HarnessOptions {
  limits?: Record<string, Record<string, number>>;
  taskDurationMs?: number;
  /** Start in-process workers (default true); fault tests spawn worker processes instead. */
  workers?: boolean;
  queues?: QueueName[];
  /** Another Temporal server than the shared one (restart tests). */
  temporalAddress?: string;
  /** Rewrites the database URL the workers use (e.g. through a cuttable proxy). */
  workerDatabaseUrl?: (url: string) => Promise<string> | string;
  /** More environment for the workers (e.g. KIE_CALLBACK_URL). */
  env?: Record<string, string>;
  /** Simulators keep provider state here, so restartSimulators() finds it again (as `npm start` after a Ctrl-C). */
  simulatorStateDir?: string;
}

export type Sims = Awaited<ReturnType<typeof startSimulators>>;

export interface Harness {
  db: TestDatabase;
  env: Env;
  /** Environment for a spawned worker process serving this harness. */
  childEnv: Record<string, string>;
  sims: Sims['sims'];
  runtime: Runtime;
  client: Client;
  service: RecommendationService;
  taskQueue: string;
  workers: Worker[];
  stopWorkers(): Promise<void>;
  /** Stops the simulators and starts them again on the same ports (and state directory): `sims` then names the new ones. */
  restartSimulators(): Promise<void>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
/** Temporal's own logs (every retried activity, with its stack) drown the test output: errors only. */
function quietTemporalRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    TemporalRuntime.install({ logger: new DefaultLogger(process.env.TEST_TEMPORAL_LOG_LEVEL === 'debug' ? 'DEBUG' : 'ERROR') });
  } catch {
    // Already installed by an earlier harness in this process.
  }
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  quietTemporalRuntime();
  const address = opts.temporalAddress ?? inject('temporalAddress');
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  const limits = mergeLimits(FAST_LIMITS, opts.limits ?? {});
  const simOptions = {
    taskDurationMs: opts.taskDurationMs ?? 200,
    ...(opts.simulatorStateDir ? { stateDir: opts.simulatorStateDir } : {}),
  };
  let sims = await startSimulators(simOptions);
  // Finished reels: written by the assembly worker, served to the publishers as production's /media/ would.
  const mediaDir = path.join(os.tmpdir(), `reelflow-media-${taskQueue}`);
  // Our copies of the paid videos (the fs store unless a test sets REELFLOW_STORAGE=s3), served to signed URLs.
  const archiveDir = path.join(os.tmpdir(), `reelflow-archive-${taskQueue}`);
  const media = await startMediaServer({ mediaDir, archive: { dir: archiveDir, signingKey: DEV_SIGNING_KEY } });
  const envVars: Record<string, string> = {
    ...sims.env,
    TEMPORAL_ADDRESS: address,
    REELFLOW_TASK_QUEUE: taskQueue,
    REELFLOW_LIMITS: JSON.stringify(limits),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    // Downloads are keyed by workflow id: a test's must not find another run's files.
    AUDIO_DIR: path.join(os.tmpdir(), `reelflow-audio-${taskQueue}`),
    // One render per idea, as the gate and fault suites count them; reel tests set chained or independent.
    REELFLOW_REEL_MODE: 'clip',
    REELFLOW_MEDIA_DIR: mediaDir,
    REELFLOW_MEDIA_BASE_URL: media.url,
    REELFLOW_ARCHIVE_DIR: archiveDir,
    REELFLOW_ASSEMBLY_PRESET: 'ultrafast',
    // The simulator's TikTok posts are public (video/query lists them): `republish --post` checks them there.
    TIKTOK_PRIVACY_LEVEL: 'PUBLIC_TO_EVERYONE',
    ...opts.env,
  };
  const preEnv = loadEnv(envVars);
  const { effectiveLimits } = await import('../../src/config/env');
  const db = await createTestDatabase(effectiveLimits(preEnv));
  envVars.DATABASE_URL = opts.workerDatabaseUrl ? await opts.workerDatabaseUrl(db.url) : db.url;
  const env = loadEnv(envVars);
  const runtime = await createRuntime({ env, log: createLogger(env.LOG_LEVEL, 'test'), migrate: false });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const service = createRecommendationService({
    database: db.database,
    client,
    taskQueue,
    veo3: () => runtime.providers.veo3,
    publisher: (platform) => runtime.providers[platform],
  });

  let workers: Worker[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let workerConnection: NativeConnection | undefined;
  if (opts.workers !== false) {
    workerConnection = await NativeConnection.connect({ address });
    workers = await createWorkers({
      connection: workerConnection,
      namespace: 'default',
      baseQueue: taskQueue,
      deps: runtime,
      queues: opts.queues,
    });
    running = Promise.all(workers.map((w) => w.run()));
  }
  const stopWorkers = async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
  };
  return {
    db,
    env,
    childEnv: envVars,
    get sims() {
      return sims.sims;
    },
    async restartSimulators() {
      const ports = Object.fromEntries(Object.entries(sims.sims).map(([name, sim]) => [name, sim.port]));
      await sims.stop();
      sims = await startSimulators({ ...simOptions, ports });
    },
    runtime,
    client,
    service,
    taskQueue,
    workers,
    stopWorkers,
    async stop() {
      await stopWorkers();
      await workerConnection?.close();
      await connection.close();
      await runtime.close();
      await sims.stop();
      await media.stop();
      await db.drop();
      await fs.rm(path.join(os.tmpdir(), `reelflow-audio-${taskQueue}`), { recursive: true, force: true });
      await fs.rm(mediaDir, { recursive: true, force: true });
      await fs.rm(archiveDir, { recursive: true, force: true });
    },
  };
}

function mergeLimits(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>) {
  const out: Record<string, Record<string, number>> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = { ...a[k], ...b[k] };
  return out;
}

/**
 * One harness for a test file: started before its tests, stopped after them. `h` stands for it in the tests (it
 * throws if used before beforeAll), `q` queries its database and returns the rows.
 */
export function harnessForFile(opts: HarnessOptions = {}) {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(opts);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const h = new Proxy({} as Harness, {
    get(_target, key) {
      if (!started) throw new Error('the harness starts in beforeAll: use it inside a test');
      return Reflect.get(started, key, started) as unknown;
    },
  });
  const q = async <T>(text: string, params: unknown[] = []) => (await h.db.database.pool.query(text, params)).rows as T[];
  return { h, q };
}

/** A valid enqueue body; override what the test is about. */
export function recommendationInput(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Carlos Álvarez, el chollo que nadie ve',
    type: 'player_spotlight',
    priority: 'P1',
    targetPlayer: 'carlos-alvarez',
    ourData: { price: 6.2, points: 58, recentForm: 7.4 },
    ...overrides,
  };
}

const CLI = path.resolve(__dirname, '../../src/cli/main.ts');
const execCli = promisify(execFile);

/** The reelflow CLI as a real process against this harness's database and Temporal; its exit code instead of a throw. */
export async function runCli(
  h: Harness,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execCli(process.execPath, ['-r', 'tsx/cjs', CLI, ...args], {
      env: { ...process.env, ...h.childEnv, DATABASE_URL: h.db.url, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
