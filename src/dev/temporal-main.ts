/**
 * `npm run temporal`: the local Temporal dev server in the foreground, with a
 * persistent SQLite file under .data/ (a restart loses nothing) and the Web UI.
 */
import path from 'node:path';
import { startTemporalServer } from './temporal-server';

async function main() {
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const server = await startTemporalServer({
    port,
    uiPort,
    dbFile: path.resolve(__dirname, '../../.data/temporal.sqlite'),
    logFile: path.resolve(__dirname, '../../.data/temporal.log'),
  });
  if (!server.process) {
    console.log(`a Temporal server already answers on ${server.address}; nothing to start`);
    return;
  }
  console.log(`Temporal dev server on ${server.address}, Web UI ${server.uiUrl} (Ctrl-C stops it)`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`temporal: ${err.message}`);
  process.exit(1);
});
