/**
 * `npm run temporal:cluster`: a real Temporal server on our PostgreSQL in the
 * foreground (databases `temporal` and `temporal_visibility`), the way to run
 * Temporal for real on one machine. A second run reuses the binaries, the
 * databases, the namespace and the search attributes. If the server dies,
 * this process says how and exits non-zero.
 *
 * Environment: TEMPORAL_PORT (default 7233), TEMPORAL_DATABASE_URL (the
 * PostgreSQL server; default postgres://postgres@127.0.0.1:5432/postgres),
 * TEMPORAL_DB_PREFIX (temporal), TEMPORAL_DATA_DIR (the repository's .data/,
 * where temporal-cluster.log goes), TEMPORAL_LOG_LEVEL (warn).
 */
import { once } from 'node:events';
import path from 'node:path';
import { startTemporalCluster } from './temporal-cluster';
import { runInForeground } from './temporal-server';

async function main(): Promise<number | undefined> {
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const dataDir = path.resolve(process.env.TEMPORAL_DATA_DIR ?? path.resolve(__dirname, '../../.data'));
  const logFile = path.join(dataDir, 'temporal-cluster.log');
  const dbPrefix = process.env.TEMPORAL_DB_PREFIX ?? 'temporal';
  const cluster = await startTemporalCluster({ port, databaseUrl: process.env.TEMPORAL_DATABASE_URL, dbPrefix, logFile });
  const child = cluster.process();
  if (!child) {
    console.log(`a Temporal server on PostgreSQL already answers on ${cluster.address}; namespace and search attributes checked`);
    return 0;
  }
  console.log(
    `Temporal server on ${cluster.address} (PostgreSQL databases ${dbPrefix}, ${dbPrefix}_visibility), log ${logFile} (Ctrl-C stops it)`,
  );
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return runInForeground({ label: 'temporal:cluster: the server', stop: () => cluster.stop(), exited, logFile });
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: Error) => {
    console.error(`temporal:cluster: ${err.message}`);
    process.exit(1);
  },
);
