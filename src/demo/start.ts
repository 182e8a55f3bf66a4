/**
 * `npm start`: the whole system on one machine, with simulated providers.
 * Starts (or reuses) the Temporal dev server with a persistent database,
 * migrates PostgreSQL, starts the provider simulators and every worker, feeds
 * the sample competitor videos through analysis and the hourly Schedule's
 * recommendation engine, and shows the resulting video workflows live.
 * Real limits apply (VEO3: 2 at once, 10 s between starts), so you can watch
 * the gate at work. Ctrl-C stops everything but the Temporal server's data.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DEFAULT_SIMULATOR_PORTS, DEV_SIGNING_KEY, loadEnv } from '../config/env';
import { PROVIDER_LIMITS } from '../config/providers';
import { keepTemporalServerUp, startTemporalServer } from '../dev/temporal-server';
import { startSimulators } from '../simulators/index';
import { createRecommendationService } from '../services/recommendations';
import { ensureCapacityWorkflow } from '../temporal/capacity-snapshot';
import { connectTemporal } from '../temporal/client';
import { createRuntime } from '../workers/runtime';
import { createWorkersFromEnv } from '../workers/workers';
import { startStuckWatch } from '../workers/stuck-watch';
import { startEndedRunWatch } from '../workers/ended-run-watch';
import { renderProgress, runOutcome } from './progress';
import { temporalWorkflowsUrl } from '../shared/temporal-ui';
import { missingTools, PATH_VARIABLE } from '../media/tools';
import { startMediaServer } from '../media/store';
import { approveAsDemoEditor } from './approvals';
import { databaseIdentity, pairingProblem, recordPairing } from './pairing';
import { DEMO_DATA_DIR, demoInstanceProblem, recordDemoEnv, recordRunningDemo } from './instance';
import { liveUploads, seedDemo } from './seed';
import { compareSubmissions, createScreenPrinter, createSdkLogPrinter, humanLogLine } from './screen';
import { sleep } from '../shared/sleep';
import { FORWARDED_CORE_LOGS } from '../metrics/runtime';

/** When the watched channels publish their live uploads, after the live view starts. */
const LIVE_UPLOADS_AFTER_MS = 20_000;

/** Where the demo serves finished reels (beside the simulators' 7301-7306). */
const DEMO_MEDIA_PORT = 7307;
/**
 * The simulated accounts allow ten times a real account's day (and budget), so running the demo again the same
 * day keeps publishing; the gate enforces them as it would real ones (`reelflow capacity` and the dashboard show
 * their use). A real account's figures: docs/limits.md; REELFLOW_QUOTAS still overrides these.
 */
const DEMO_QUOTAS = {
  instagram_posts: { limit: 500 },
  tiktok_posts: { limit: 150 },
  youtube_api_units: { limit: 100_000 },
  api_football_requests: { limit: 1_000 },
  veo3_credits_day: { limit: 60_000 },
  veo3_credits_month: { limit: 1_200_000 },
};

const DEMO_METRICS_HOUR_MS = 1_000;

async function main() {
  const { values } = parseArgs({ options: { exit: { type: 'boolean' } } });
  // The live table is the demo's output: Temporal's own INFO lines would scroll it away, and of its warnings
  // createSdkLogPrinter drops those that say nothing new and says a server gone once.
  Runtime.install({
    logger: new DefaultLogger(
      'WARN',
      createSdkLogPrinter((line) => console.error(line)),
    ),
    // Core's own lines go through that logger too (they were printed raw, with their own escapes, around the filter).
    telemetryOptions: { logging: FORWARDED_CORE_LOGS },
  });
  // Competitor audio is fetched with the real tools: say what to install before starting anything.
  const missing = await missingTools((tool) => process.env[PATH_VARIABLE[tool]] || tool);
  if (missing.length) {
    for (const err of missing) console.error(`demo: ${err.message.replace(/^audio_fetch: /, '')}`);
    process.exit(1);
  }
  const dataDir = DEMO_DATA_DIR;
  // One demo at a time (./instance.ts), on the ports it serves its simulators and media from.
  const fixedPorts: Record<string, number> = { media: DEMO_MEDIA_PORT };
  for (const [name, port] of Object.entries(DEFAULT_SIMULATOR_PORTS)) fixedPorts[`${name} simulator`] = port;
  const another = await demoInstanceProblem(dataDir, fixedPorts);
  if (another) {
    console.error(`demo: ${another}`);
    process.exit(1);
  }
  // `.data/` belongs to the database it ran against (./pairing.ts): checked before anything starts.
  const databaseUrl = loadEnv().DATABASE_URL;
  const identity = await databaseIdentity(databaseUrl);
  const mismatch = pairingProblem(dataDir, identity, new URL(databaseUrl).pathname.slice(1));
  if (mismatch) {
    console.error(`demo: ${mismatch}`);
    process.exit(1);
  }
  process.on('exit', recordRunningDemo(dataDir));
  // scripts/temporal-cli.sh prints its own progress and estimate, only when it has to build the CLI.
  console.log('Starting the Temporal dev server...');
  const temporalOptions = {
    port: 7233,
    uiPort: 8233,
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    logFile: path.join(dataDir, 'temporal.log'),
    // Ctrl-C stops the workers first, which need the server to hand their jobs back; shutdown() stops it last.
    ownProcessGroup: true,
    // A run killed outright leaves its server running: the next one takes it over and stops it when it ends.
    ownerFile: path.join(dataDir, 'temporal.owner.json'),
  };
  const temporal = await startTemporalServer(temporalOptions);
  if (temporal.origin === 'adopted')
    console.log(`  found the one an earlier run left on ${temporal.address} when it was killed: stopped when this run ends`);
  if (temporal.origin === 'found')
    console.log(`  found one already running on ${temporal.address}, not started by the demo: left running when it ends`);
  const sims = await startSimulators({
    ports: DEFAULT_SIMULATOR_PORTS,
    // A reel is several renders: 8 s each keeps the demo's dozen reels within minutes (a real one takes about five).
    taskDurationMs: { veo3: 8_000, openai: 300, instagram: 1_500, tiktok: 1_500, youtube: 2_000 },
    // Renders and publishes in flight at a Ctrl-C are still there at the next `npm start`, as at KIE and the platforms.
    stateDir: path.join(dataDir, 'simulators'),
  });
  // The CLI and the API started beside it ask the same simulators (runningDemoEnv).
  recordDemoEnv(dataDir, sims.env);
  // The simulated Instagram account allows what the demo's quota says, so the platform's own reading looks like a
  // real account's on the dashboard ("provider says 499 of 500 left"), not like an unlimited one's 10^9.
  sims.sims.instagram.publishQuota = DEMO_QUOTAS.instagram_posts.limit;
  const veo3Before = sims.sims.veo3.stats().submissions;
  // Finished reels, served as the API's /media/ serves them; on a fixed port, so a reel assembled before a Ctrl-C
  // is published from the same URL after it.
  const mediaDir = path.join(dataDir, 'media');
  // Our copies of the paid videos (the fs store), served to signed URLs by the same media server.
  const archive = {
    dir: process.env.REELFLOW_ARCHIVE_DIR ?? path.join(dataDir, 'archive'),
    signingKey: process.env.REELFLOW_MEDIA_SIGNING_KEY ?? DEV_SIGNING_KEY,
  };
  const media = await startMediaServer({ mediaDir, archive, port: DEMO_MEDIA_PORT });
  // Simulators unless the operator pointed a provider elsewhere.
  const env = loadEnv({
    ...sims.env,
    REELFLOW_MEDIA_DIR: mediaDir,
    REELFLOW_MEDIA_BASE_URL: media.url,
    REELFLOW_ARCHIVE_DIR: archive.dir,
    // Two-segment reels cut with the fastest preset: a dozen of them on a laptop's cores in a few minutes.
    REELFLOW_REEL_SECONDS: '16',
    REELFLOW_ASSEMBLY_PRESET: 'ultrafast',
    REELFLOW_QUOTAS: JSON.stringify(DEMO_QUOTAS),
    // A post's age on a clock where an hour takes a second: its +1 h to +7 d readings come within three minutes of
    // publishing, so the dashboard's Performance panel fills while the demo runs (on real time it stayed empty for an hour).
    REELFLOW_METRICS_HOUR_MS: String(DEMO_METRICS_HOUR_MS),
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  // The simulated platforms age their posts on the same clock (their views follow the post's age).
  for (const sim of [sims.sims.instagram, sims.sims.tiktok, sims.sims.youtube]) sim.metrics.setDefaultHourMs(env.REELFLOW_METRICS_HOUR_MS);
  const log = pino(
    { name: 'reelflow-demo', level: env.LOG_LEVEL, base: { pid: process.pid } },
    { write: (line: string) => process.stdout.write(humanLogLine(line)) },
  );
  const runtime = await createRuntime({ env, log });
  // A database the demo has just created is known only now.
  recordPairing(dataDir, identity ?? (await databaseIdentity(env.DATABASE_URL))!);
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const workers = await createWorkersFromEnv(env, { connection, deps: runtime });
  const running = Promise.all(workers.map((w) => w.run()));
  const stuck = startStuckWatch(runtime);
  const client = await connectTemporal(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  await ensureCapacityWorkflow(client, env.REELFLOW_TASK_QUEUE, env.REELFLOW_CAPACITY_REFRESH_MS);
  const endedRuns = startEndedRunWatch(runtime, { client });
  const service = createRecommendationService({ database: runtime.database, client, taskQueue: env.REELFLOW_TASK_QUEUE });
  // Ctrl-C works from here on, seeding included (it used to be set up after the seeding: a Ctrl-C during it stopped
  // the SDK's workers, and the seeding then waited forever for them).
  let stopping = false;
  // The dev server is the demo's own: one that dies under it (killed, out of memory) is started again on the same
  // store, and the workers, which retry their calls meanwhile, carry on where they were. It stayed down, and the
  // terminal filled with the workers' retries.
  const server = keepTemporalServerUp(temporal, temporalOptions, { wanted: () => !stopping, say: (line) => console.error(line) });
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    // Jobs in flight stop now and resume on the next `npm start` (same task, not paid again).
    runtime.beginShutdown();
    // The SDK stops its workers on SIGINT too; one it stopped already (nothing in flight, as early in the seeding)
    // must not be stopped twice (shutdown() throws on a worker not running, and the process died with the server up).
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
    stuck.stop();
    endedRuns.stop();
    await runtime.close();
    await sims.stop();
    await media.stop();
    await connection.close();
    // The client's connection is left to process.exit: closing it made a call still retrying (the seeding's, the
    // progress view's) throw "Channel has been shut down" from a timer, which ended the process before the dev
    // server was stopped.
    await server.current().stop();
    console.log('stopped: `npm start` again resumes whatever is still open');
    process.exit(0);
  };
  // Not `once`: with no handler left, a second Ctrl-C ended the process mid-shutdown (node's default), leaving the
  // Temporal dev server it started running. A third one forces the exit. One Ctrl-C is one signal since `npm start`
  // runs node itself (package.json): the tsx wrapper relayed it again to a busy process (test/unit/scripts.test.ts).
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals >= 3) process.exit(130);
    // Said at once: the hand-back takes a few seconds, and a silent terminal reads as a hang.
    if (signals === 1) console.log('\nstopping: jobs in flight are handed back and resume at the next `npm start` (not paid again)');
    if (signals === 2) console.log('\nstill stopping: the workers hand their jobs back (Ctrl-C once more to force)');
    void shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A worker whose run fails stops the demo as Ctrl-C does (jobs handed back, the dev server stopped). Unhandled, the
  // rejection ended the process at once, the Temporal dev server it started left running.
  running.catch((err: unknown) => {
    if (stopping) return;
    console.error(`reelflow demo: a worker stopped (${err instanceof Error ? err.message : String(err)}); stopping`);
    void shutdown();
  });
  /** A step the shutdown cut short (closed pool, stopped workers): shutdown() owns the exit from then on. */
  const unlessStopping = <T>(step: Promise<T>): Promise<T> =>
    step.catch((err: unknown) => {
      if (stopping) return new Promise<T>(() => undefined);
      throw err;
    });

  // Ideas an interrupted earlier run left open (a render in flight at its Ctrl-C): the workers resume them
  // at once, and this run follows and reports them too. Read before seeding, which takes a while.
  const { rows: open } = await unlessStopping(
    runtime.database.pool.query<{ id: string }>(`SELECT id FROM competitive_recommendations WHERE status IN ('pending', 'in_production')`),
  );
  const resumed = open.map((r) => r.id);
  if (resumed.length) console.log(`resuming ${resumed.length} recommendations an earlier run left open (their renders are not paid again)`);
  const runStart = new Date();
  const seedDeps = {
    database: runtime.database,
    client,
    service,
    env,
    taskQueue: env.REELFLOW_TASK_QUEUE,
    youtube: sims.sims.youtube,
    say: (l: string) => console.log(l),
  };
  const seed = await unlessStopping(seedDemo(seedDeps));
  const seeded = seed.ids;
  seeded.push(...resumed.filter((id) => !seeded.includes(id)));
  // Under the live view: what the demo does on its own (live uploads, approvals), newest last.
  const events: string[] = [];
  const note = (line: string) => events.push(`${new Date().toISOString().slice(11, 19)}  ${line}`);
  let uploadsDone = false;
  setTimeout(() => {
    note('new uploads on the watched channels; the next discovery run will find them...');
    liveUploads({ ...seedDeps, say: note }, seed).then(
      (n) => {
        note(n ? `${n} live uploads analysed; their ideas joined the list` : 'live uploads: published by an earlier run already');
        uploadsDone = true;
      },
      (err: Error) => {
        note(`live uploads failed: ${err.message}`);
        uploadsDone = true;
      },
    );
  }, LIVE_UPLOADS_AFTER_MS).unref();
  const ui = temporalWorkflowsUrl({ uiUrl: env.TEMPORAL_UI_URL, namespace: env.TEMPORAL_NAMESPACE });

  const screen = createScreenPrinter({ tty: Boolean(process.stdout.isTTY), write: (text) => process.stdout.write(text) });
  for (;;) {
    // Ctrl-C closes the database under this loop: from then on shutdown() owns the exit.
    const done = await unlessStopping(renderProgress(runtime.database, service, seeded, ui, screen, events.slice(-6)));
    if (stopping) return new Promise<void>(() => undefined);
    // The demo stands in for the editor, visibly: in production a person decides (dashboard, CLI, API).
    await approveAsDemoEditor(runtime.database, service, seeded, note).catch(() => undefined);
    if (done && uploadsDone) break;
    await sleep(1_000);
  }
  console.log(`\nAll demo recommendations reached a final state. Web UI: ${ui}`);
  const outcome = await runOutcome(runtime.database, seeded, runStart, resumed);
  const byStatus = Object.entries(outcome.recommendations)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  const failed = `${outcome.failedJobs} failed job${outcome.failedJobs === 1 ? '' : 's'}`;
  console.log(`This run: ${byStatus || 'no new or open recommendations'}; ${failed}`);
  const veo3 = sims.sims.veo3.stats();
  // The simulator keeps its counters across restarts, like the provider's bill: this run's are the difference.
  const submissions = compareSubmissions(veo3.submissions - veo3Before, outcome.renders);
  // The simulator renders in seconds, so the spacing, not the cap, sets how many overlap here.
  const { maxConcurrent, minStartIntervalMs } = PROVIDER_LIMITS.veo3;
  console.log(
    // Renders, not videos, are paid: a reel is several renders, and one video can be a resumed render. The simulator's
    // peak is kept across runs too, so a run that rendered nothing does not quote an earlier run's.
    outcome.renders > 0
      ? `${submissions}; ${outcome.videos} video${outcome.videos === 1 ? '' : 's'} made; max in flight ${veo3.maxInFlight} ` +
          `(cap ${maxConcurrent}, one start every ${minStartIntervalMs / 1000} s)`
      : submissions,
  );
  if (values.exit) return shutdown();
  console.log('Workers keep running: try `npm run reelflow -- enqueue --title "..." --type trend_jump --priority P0`. Ctrl-C stops.');
}

main().catch((err: Error) => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
