/**
 * Where the demo's work comes from, the same way production gets it:
 * - our data: the price file is loaded, then the API-Football sync (its
 *   simulator) merges minutes, ratings and injuries into it;
 * - competitors: two channels are watched (`competitor add`) and the
 *   competitors Schedule's run finds their videos; the sample's other videos
 *   come in as one-off links (`competitor add-video`). Each video's audio is
 *   fetched (yt-dlp), transcribed and analysed, one workflow each;
 * - the hourly Schedule's run turns the analyses into recommendations;
 * - today's daily bargains and a breaking-news P0 scheduled 20 s ahead (each once a day).
 * Later, liveUploads() publishes new videos on the watched channels and runs
 * the same discovery and engine again, so new ideas join the live view.
 */
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import type { GenerationSummary, SavedCompetitorVideo } from '../activities/competitor';
import { createDiscoveryClients } from '../providers/discovery-clients';
import { competitorVideoWorkflowId, startCompetitorVideos } from '../recommendations/ingest';
import { loadRosterFile } from '../recommendations/roster';
import { bargainDay, createBargainAnalyzer } from '../recommendations/bargains';
import { SCHEDULES } from '../schedule/command';
import { COMPETITORS_SCHEDULE_ID } from '../schedule/competitors';
import { HOURLY_SCHEDULE_ID } from '../schedule/hourly';
import { triggerScheduleRun } from '../schedule/schedules';
import { createCompetitorChannelService } from '../services/competitor-channels';
import type { RecommendationService } from '../services/recommendations';
import { PLAYER_SYNC_WORKFLOW } from '../shared/workflow-ids';
import { PLAYER_SYNC_METADATA } from '../shared/workflow-metadata';
import { sampleCompetitorVideoInputs } from '../simulators/sample';
import type { YouTubeSimulator } from '../simulators/youtube';
import type { CompetitorDiscoveryResult } from '../workflows/competitor-discovery';
import type { PlayerSyncSummary } from '../activities/api-football';
import { oneOffSampleVideos, publishLiveUploads, setUpDemoChannels, type DemoChannel } from './channels';

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');
const DEMO_PLAYER_SYNC_WORKFLOW_ID = 'player-sync-demo';

export interface SeedDeps {
  database: Database;
  client: Client;
  service: RecommendationService;
  env: Env;
  taskQueue: string;
  /** Serves the sample's watch pages and the watched channels' feeds. */
  youtube: YouTubeSimulator;
  say: (line: string) => void;
}

export interface DemoSeed {
  /** Recommendations the live view follows; liveUploads() adds to it. */
  ids: string[];
  channels: DemoChannel[];
}

/** Runs a Schedule's next run now and returns its result (or the run a previous demo left running). */
async function runSchedule<T>(deps: SeedDeps, scheduleId: string): Promise<T | undefined> {
  const run = await triggerScheduleRun(deps.client, scheduleId, 30_000);
  const workflowId = run.outcome === 'started' ? run.workflowId : run.outcome === 'skipped' ? run.runningWorkflowId : undefined;
  if (!workflowId) {
    deps.say(`${scheduleId} did not start a run within 30 s; see \`npm run reelflow -- schedule describe\``);
    return undefined;
  }
  return (await deps.client.workflow.getHandle(workflowId).result()) as T;
}

/** Discovery's run, then every analysis it started: the engine should see them all. */
async function discoverAndAnalyse(deps: SeedDeps): Promise<number> {
  const result = await runSchedule<CompetitorDiscoveryResult>(deps, COMPETITORS_SCHEDULE_ID);
  const found = result?.channels.flatMap((c) => c.found) ?? [];
  for (const c of result?.channels ?? []) {
    deps.say(`  ${c.displayName}: ${c.found.length} new, ${c.known} already known${c.error ? ` (error: ${c.error})` : ''}`);
  }
  await Promise.all(
    found.map((v) =>
      deps.client.workflow
        .getHandle(competitorVideoWorkflowId(v.url))
        .result()
        .catch((err: Error) => deps.say(`  ${v.title}: ${err.message}`)),
    ),
  );
  return found.length;
}

/**
 * What the seed's competitor videos cost this run: a second run finds the pasted links analysed already (their
 * workflows end at the row; nothing fetched or paid again) and says so instead of 'fetched'. The discovered ones
 * are new by definition. A failed one (null) was said on its own line.
 */
export function competitorVideosLine(discovered: number, pasted: ReadonlyArray<Pick<SavedCompetitorVideo, 'alreadyKnown'> | null>) {
  const known = pasted.filter((r) => r?.alreadyKnown).length;
  const fetched = pasted.filter((r) => r && !r.alreadyKnown).length + discovered;
  return (
    `competitor videos: ${fetched} fetched (yt-dlp), transcribed and analysed` +
    (known ? `; ${known} already analysed by an earlier run (not fetched or paid again)` : '')
  );
}

async function generate(deps: SeedDeps): Promise<string[]> {
  const summary = await runSchedule<GenerationSummary>(deps, HOURLY_SCHEDULE_ID);
  const ids = summary?.created.map((c) => c.id) ?? [];
  deps.say(`recommendation engine: ${ids.length} new recommendations (${summary?.skipped ?? 0} already known)`);
  return ids;
}

export async function seedDemo(deps: SeedDeps): Promise<DemoSeed> {
  const { say } = deps;
  const roster = await loadRosterFile(deps.database.db, path.join(SAMPLE_DIR, 'players.json'));
  say(`roster: ${roster.upserted} players loaded (prices and points from the price file)`);
  // Our data, fresh: minutes, ratings and injuries from API-Football, spaced by the gate (10 a minute).
  const sync = deps.client.workflow
    .start(PLAYER_SYNC_WORKFLOW, {
      workflowId: DEMO_PLAYER_SYNC_WORKFLOW_ID,
      taskQueue: deps.taskQueue,
      args: [{}],
      ...PLAYER_SYNC_METADATA,
    })
    .catch((err: unknown) => {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return deps.client.workflow.getHandle(DEMO_PLAYER_SYNC_WORKFLOW_ID);
      throw err;
    });
  say('API-Football: syncing La Liga players (one request every 6 s, the free plan)...');

  for (const s of Object.values(SCHEDULES)) {
    const { scheduleId, created } = await s.ensure(deps.client, deps.taskQueue);
    say(`schedule ${scheduleId} ${created ? 'created' : 'updated'}`);
  }

  const channels = setUpDemoChannels(deps.youtube.discovery);
  const channelService = createCompetitorChannelService({
    database: deps.database,
    discovery: createDiscoveryClients(deps.env),
    client: deps.client,
    taskQueue: deps.taskQueue,
  });
  for (const c of channels) {
    const { channel, created } = await channelService.add({ platform: 'youtube', channel: c.id, name: c.name });
    say(`watching ${channel.displayName} (${channel.externalId})${created ? '' : ', as before'}`);
  }
  const oneOff = new Set(oneOffSampleVideos().map((v) => v.id));
  const links = sampleCompetitorVideoInputs(deps.youtube.url).filter((v) => oneOff.has(v.externalId ?? ''));
  const pasted = await startCompetitorVideos(deps.client, deps.taskQueue, links);
  say(`competitor videos: ${pasted.length} one-off links, and a discovery run of the watched channels:`);
  const discovered = await discoverAndAnalyse(deps);
  const results = await Promise.all(
    pasted.map((h) =>
      (h.result() as Promise<SavedCompetitorVideo>).catch((err: Error) => {
        say(`  ${h.workflowId}: ${err.message}`);
        return null;
      }),
    ),
  );
  say(competitorVideosLine(discovered, results));

  try {
    const summary = (await (await sync).result()) as PlayerSyncSummary;
    say(
      `API-Football: ${summary.playersRead} players read in ${summary.requests} requests, ${summary.matched} matched, ` +
        `${summary.injured} injured, ${summary.doubtful} doubtful (\`reelflow players unmatched\` lists the rest)`,
    );
  } catch (err) {
    say(`API-Football sync failed, the price file's data stands: ${(err as Error).message}`);
  }

  const ids = await generate(deps);
  // What the daily 08:00 run would do, now: one chollo per qualifying player, once a day.
  const bargains = await createBargainAnalyzer({ db: deps.database.db, service: deps.service }).generateDailyBargains({ limit: 2 });
  say(`daily bargains of ${bargains.day}: ${bargains.created.length} new (${bargains.skipped} already made today)`);
  ids.push(...bargains.ids);

  const { recommendation } = await enqueueBreakingNews(deps.service);
  ids.push(recommendation.id);
  return { ids, channels };
}

/**
 * The breaking-news P0, scheduled 20 s ahead to show a scheduled idea. One a studio day (Madrid), as the daily
 * bargains: a second `npm start` follows the first one's instead of enqueuing the same idea again, a second paid
 * render of it (it used to take a key per run).
 */
export function enqueueBreakingNews(service: RecommendationService, now = new Date()) {
  return service.enqueue({
    title: 'Última hora: lesión en el Betis, ¿a quién fichar?',
    type: 'breaking_news',
    priority: 'P0',
    source: 'breaking_news',
    scheduleAfter: new Date(now.getTime() + 20_000).toISOString(),
    jobConfig: { platforms: ['instagram'] },
    dedupeKey: `demo:breaking:${bargainDay(now)}`,
  });
}

/**
 * New uploads on the watched channels, mid-run: the next discovery run finds them,
 * their analyses run, and the engine's next run adds their ideas to `seed.ids`.
 * Returns how many were published (0 once a previous run published them all).
 */
export async function liveUploads(deps: SeedDeps, seed: DemoSeed): Promise<number> {
  const published = publishLiveUploads(deps.youtube.discovery, seed.channels);
  if (published.length === 0) return 0;
  await discoverAndAnalyse(deps);
  seed.ids.push(...(await generate(deps)));
  return published.length;
}
