/**
 * `npm run temporal`: the local Temporal dev server in the foreground, with a
 * persistent SQLite file under .data/ (a restart loses nothing) and the Web UI.
 * If the server dies, this process says how and exits non-zero: it used to
 * stay silent, so a dead server looked like a quiet one.
 *
 * Environment: TEMPORAL_PORT (default 7233), TEMPORAL_UI_PORT (8233),
 * TEMPORAL_DATA_DIR (the repository's .data/), where temporal.sqlite and
 * temporal.log live.
 */
import path from 'node:path';
import { runInForeground, startTemporalServer } from './temporal-server';

async function main(): Promise<number | undefined> {
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const dataDir = path.resolve(process.env.TEMPORAL_DATA_DIR ?? path.resolve(__dirname, '../../.data'));
  const logFile = path.join(dataDir, 'temporal.log');
  const server = await startTemporalServer({ port, uiPort, dbFile: path.join(dataDir, 'temporal.sqlite'), logFile });
  if (!server.process) {
    console.log(`a Temporal server already answers on ${server.address}; nothing to start`);
    return 0;
  }
  console.log(`Temporal dev server on ${server.address}, Web UI ${server.uiUrl}, log ${logFile} (Ctrl-C stops it)`);
  return runInForeground({ label: 'temporal: the dev server', stop: () => server.stop(), exited: server.exited, logFile });
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: Error) => {
    console.error(`temporal: ${err.message}`);
    process.exit(1);
  },
);
