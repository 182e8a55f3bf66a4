/**
 * A real Temporal server (not the dev server) on our PostgreSQL: the same
 * binary and the same config template (deploy/temporal-server.yaml) a
 * production cluster runs, all four services in one process. Used by
 * `npm run temporal:cluster`, `npm run test:cluster` and the bench.
 *
 * Steps, each idempotent: build or find the binaries (scripts/temporal-server.sh),
 * create and migrate the two databases with temporal-sql-tool, start the
 * server, wait for health, register the namespace and our search attributes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { SEARCH_ATTRIBUTES } from '../shared/messages';
import { sleep } from '../shared/sleep';
import { isPortOpen, resolveTemporalCli, scriptOutput, tailFile, waitForHealth } from './temporal-server';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');

export interface TemporalClusterOptions {
  /** Frontend gRPC port; the server takes it and the nine above it (see clusterPorts). Default 7233. */
  port?: number;
  /**
   * Not supported: the server binary has no Web UI (temporalio/ui-server is a separate program).
   * Accepted so callers can pass the options they give startTemporalServer; ignored.
   */
  uiPort?: number;
  /**
   * The PostgreSQL server to keep Temporal's state in; only host, port, user and password are used.
   * Default postgres://postgres@127.0.0.1:5432/postgres.
   */
  databaseUrl?: string;
  /** Databases `<dbPrefix>` (persistence) and `<dbPrefix>_visibility`. Default 'temporal'. */
  dbPrefix?: string;
  /** Where the server's log goes (appended). Default: discarded. */
  logFile?: string;
  /** Namespace created if missing, with our search attributes. Default 'default'. */
  namespace?: string;
  /** PostgreSQL connections per service for persistence (four services: up to 4x this, plus 2 each for visibility). Default 10. */
  sqlMaxConns?: number;
}

export interface TemporalCluster {
  address: string;
  /** The running server process; null when a cluster server already answered on the port and was reused. */
  process(): ChildProcess | null;
  logFile?: string;
  /** SIGTERM (SIGKILL after 15 s); resolves once the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would: nothing is flushed. */
  kill(): Promise<void>;
  /** Starts the server again on the same databases and ports (after stop or kill; stops it first if running) and waits for health. */
  restart(): Promise<void>;
}

interface Binaries {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the server module: temporal/versioned and visibility/versioned. */
  schemaDir: string;
}

/** Namespace retention: a week covers a weekend plus the days to look into a failed job's history; our volume is tiny. */
const RETENTION = '7d';

/**
 * The server's ports: a block of ten from the frontend's, so several servers
 * (demo, tests, bench) share one machine by picking blocks that do not overlap.
 */
export function clusterPorts(port: number) {
  return {
    frontend: port,
    history: port + 1,
    matching: port + 2,
    worker: port + 3,
    frontendMembership: port + 4,
    historyMembership: port + 5,
    matchingMembership: port + 6,
    workerMembership: port + 7,
    frontendHttp: port + 8,
    metrics: port + 9,
  };
}

/**
 * A script's stdout once it has ended. 'close', not 'exit': 'exit' can come before
 * the last stdout chunk is read, and under load the path came back empty.
 */
/** The binaries' and schema's paths; builds them the first time (stderr shows progress). */
async function resolveBinaries(): Promise<Binaries> {
  const stdout = await scriptOutput('scripts/temporal-server.sh', 20 * 60_000);
  const values = Object.fromEntries(stdout.split('\n').map((line) => line.split('=', 2) as [string, string]));
  if (!values.SERVER || !values.SQL_TOOL || !values.SCHEMA_DIR) throw new Error(`scripts/temporal-server.sh printed no paths: ${stdout}`);
  return { server: values.SERVER, sqlTool: values.SQL_TOOL, schemaDir: values.SCHEMA_DIR };
}

interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

function parseDatabaseUrl(databaseUrl: string): PgTarget {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(`databaseUrl: not a URL (${databaseUrl}); expected postgres://user[:password]@host:port/db`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`databaseUrl: protocol ${url.protocol} is not postgres: (${databaseUrl})`);
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
  };
}

/**
 * Creates the database and its schema when missing, then always applies the
 * versioned updates (a no-op when current, the migration after an upgrade).
 */
async function ensureDatabase(bin: Binaries, target: PgTarget, database: string, kind: 'temporal' | 'visibility'): Promise<void> {
  const base = ['--plugin', 'postgres12', '--ep', target.host, '-p', String(target.port), '-u', target.user, '--db', database];
  if (target.password) base.push('--pw', target.password);
  const tool = async (...args: string[]) => {
    try {
      await run(bin.sqlTool, [...base, ...args], { timeout: 120_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed: ${e.stderr || e.stdout || e.message}`, { cause: err });
    }
  };
  const admin = new pg.Client({ ...target, database: 'postgres' });
  await admin.connect();
  let exists: boolean;
  try {
    exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
  } finally {
    await admin.end();
  }
  if (!exists) await tool('create-database');
  const db = new pg.Client({ ...target, database });
  await db.connect();
  let hasSchema: boolean;
  try {
    hasSchema = (await db.query("SELECT to_regclass('schema_version') IS NOT NULL AS present")).rows[0].present === true;
  } finally {
    await db.end();
  }
  if (!hasSchema) await tool('setup-schema', '-v', '0.0');
  await tool('update-schema', '-d', path.join(bin.schemaDir, kind, 'versioned'));
}

/** Serialises setup across processes (a test run and the bench starting at once) on the same PostgreSQL. */
async function withSetupLock<T>(target: PgTarget, key: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...target, database: 'postgres' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`reelflow-temporal-cluster:${key}`]);
    return await fn();
  } finally {
    await client.end();
  }
}

async function cli(temporal: string, args: string[], timeout = 10_000): Promise<string> {
  const { stdout } = await run(temporal, args, { timeout });
  return stdout;
}

/** The persistence store a running server reports ('postgres12' for ours, 'sqlite' for a dev server). */
async function persistenceStore(temporal: string, address: string): Promise<string> {
  const out = await cli(temporal, ['operator', 'cluster', 'describe', '--address', address, '-o', 'json']);
  return String((JSON.parse(out) as { persistenceStore?: string }).persistenceStore ?? 'unknown');
}

/**
 * The namespace and our search attributes, created when missing. A namespace
 * just created takes a few seconds to reach every service's cache, hence the
 * retries.
 */
async function registerNamespace(temporal: string, address: string, namespace: string): Promise<void> {
  const common = ['--address', address, '--namespace', namespace];
  try {
    await cli(temporal, ['operator', 'namespace', 'describe', ...common]);
  } catch {
    await cli(temporal, ['operator', 'namespace', 'create', ...common, '--retention', RETENTION]).catch((err: Error) => {
      if (!/already (exists|registered)/i.test(err.message)) throw err;
    });
  }
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const listed = await cli(temporal, ['operator', 'search-attribute', 'list', ...common, '-o', 'json']);
      const missing = Object.values(SEARCH_ATTRIBUTES).filter((sa) => !listed.includes(`"${sa.name}"`));
      if (missing.length === 0) return;
      const args = ['operator', 'search-attribute', 'create', ...common];
      for (const sa of missing) args.push('--name', sa.name, '--type', 'Keyword');
      await cli(temporal, args, 30_000);
    } catch (err) {
      if (Date.now() > until)
        throw new Error(`registering search attributes on ${namespace} at ${address}: ${(err as Error).message}`, {
          cause: err,
        });
      await sleep(1_000);
    }
  }
}

/** Builds (first time), sets up and starts the server, or reuses a cluster server already on the port. */
export async function startTemporalCluster(opts: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const port = opts.port ?? 7233;
  if (!Number.isInteger(port) || port < 1024 || port > 65_526) throw new Error(`port: ${port} is not an integer in 1024..65526`);
  const dbPrefix = opts.dbPrefix ?? 'temporal';
  if (!/^[a-z_][a-z0-9_]*$/.test(dbPrefix)) throw new Error(`dbPrefix: "${dbPrefix}" must be lower-case letters, digits and _`);
  const namespace = opts.namespace ?? 'default';
  const sqlMaxConns = opts.sqlMaxConns ?? 10;
  if (!Number.isInteger(sqlMaxConns) || sqlMaxConns < 1) throw new Error(`sqlMaxConns: ${sqlMaxConns} is not a positive integer`);
  const target = parseDatabaseUrl(opts.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const address = `127.0.0.1:${port}`;
  const [bin, temporal] = await Promise.all([resolveBinaries(), resolveTemporalCli()]);

  if (await isPortOpen(port)) {
    await waitForHealth(temporal, address, 30_000);
    const store = await persistenceStore(temporal, address);
    if (store !== 'postgres12')
      throw new Error(
        `port ${port}: a Temporal server on ${store} (not our PostgreSQL cluster) already answers there; stop it or pick another port`,
      );
    await registerNamespace(temporal, address, namespace);
    const notOurs = async () => {
      throw new Error(`the Temporal server on ${address} was already running; this process did not start it and will not stop it`);
    };
    return { address, process: () => null, logFile: opts.logFile, stop: async () => undefined, kill: notOurs, restart: notOurs };
  }

  await withSetupLock(target, dbPrefix, async () => {
    await ensureDatabase(bin, target, dbPrefix, 'temporal');
    await ensureDatabase(bin, target, `${dbPrefix}_visibility`, 'visibility');
  });

  const ports = clusterPorts(port);
  // deploy/temporal-server.yaml is a template the server renders itself from these variables: the compose file sets the same ones.
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'warn',
    SQL_MAX_CONNS: String(sqlMaxConns),
    POSTGRES_HOST: target.host,
    POSTGRES_PORT: String(target.port),
    POSTGRES_USER: target.user,
    POSTGRES_PWD: target.password,
    TEMPORAL_DB: dbPrefix,
    TEMPORAL_VISIBILITY_DB: `${dbPrefix}_visibility`,
    TEMPORAL_BIND_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    TEMPORAL_FRONTEND_PORT: String(ports.frontend),
    TEMPORAL_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    TEMPORAL_HISTORY_PORT: String(ports.history),
    TEMPORAL_MATCHING_PORT: String(ports.matching),
    TEMPORAL_WORKER_PORT: String(ports.worker),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${ports.metrics}`,
    TEMPORAL_DYNAMIC_CONFIG: path.join(REPO_ROOT, 'deploy/temporal-dynamicconfig.yaml'),
  };
  if (opts.logFile) fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });

  let child: ChildProcess | null = null;
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });

  const launch = async () => {
    const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
    const started = spawn(bin.server, ['--root', REPO_ROOT, '--config', 'deploy', '--env', 'temporal-server', 'start'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', out, out],
    });
    if (typeof out === 'number') fs.closeSync(out);
    child = started;
    exit = new Promise((resolve) => started.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      // A server that dies on start (port taken, bad config, database unreachable) says so now, not after the health timeout.
      await Promise.race([
        waitForHealth(temporal, address, 120_000),
        exit.then(({ code, signal }) => {
          const tail = opts.logFile ? tailFile(opts.logFile) : '';
          const lastLines = tail ? `; last lines of ${opts.logFile}:\n${tail}` : '';
          throw new Error(`Temporal server exited on start (${signal ?? `exit code ${code}`})${lastLines}`);
        }),
      ]);
    } catch (err) {
      started.kill('SIGKILL');
      throw err;
    }
  };

  const terminate = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = exit;
    running.kill(signal);
    const escalate = setTimeout(() => running.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(escalate);
  };

  await launch();
  await registerNamespace(temporal, address, namespace);
  return {
    address,
    process: () => child,
    logFile: opts.logFile,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
  };
}
