/**
 * Where the demo's work comes from, the same way production gets it:
 * the roster is loaded, the sample competitor videos' audio is fetched from
 * the simulators' watch pages, transcribed and analysed (one workflow each),
 * the hourly Schedule is created and triggered, and its run turns the analyses into recommendations that start their video
 * workflows. The other sources go through their own paths too: today's
 * daily bargains (the BargainAnalyzer, its daily Schedule created as well)
 * and a breaking-news P0 scheduled 20 s ahead.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { GenerationSummary } from '../activities/competitor';
import { startCompetitorVideos } from '../recommendations/ingest';
import { sampleCompetitorVideoInputs } from '../simulators/sample';
import { loadRosterFile } from '../recommendations/roster';
import { createBargainAnalyzer } from '../recommendations/bargains';
import { SCHEDULES } from '../schedule/command';
import { HOURLY_SCHEDULE_ID } from '../schedule/hourly';
import { triggerScheduleRun } from '../schedule/schedules';
import type { RecommendationService } from '../services/recommendations';

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');

export async function seedDemo(deps: {
  database: Database;
  client: Client;
  service: RecommendationService;
  taskQueue: string;
  /** Where the sample's watch pages are served (the YouTube simulator): yt-dlp fetches their audio. */
  youtubeSimulatorUrl: string;
  say: (line: string) => void;
}): Promise<string[]> {
  const { say } = deps;
  const roster = await loadRosterFile(deps.database.db, path.join(SAMPLE_DIR, 'players.json'));
  say(`roster: ${roster.upserted} players loaded`);
  const videos = await startCompetitorVideos(deps.client, deps.taskQueue, sampleCompetitorVideoInputs(deps.youtubeSimulatorUrl));
  say(`competitor videos: ${videos.length} workflows fetching audio (yt-dlp), transcribing and analysing (OpenAI: 5 at once)...`);
  await Promise.all(videos.map((h) => h.result().catch((err: Error) => say(`  ${h.workflowId}: ${err.message}`))));

  for (const s of Object.values(SCHEDULES)) {
    const { scheduleId, created } = await s.ensure(deps.client, deps.taskQueue);
    say(`schedule ${scheduleId} ${created ? 'created' : 'updated'}`);
  }
  say(`triggering one run of ${HOURLY_SCHEDULE_ID} now`);
  const run = await triggerScheduleRun(deps.client, HOURLY_SCHEDULE_ID, 30_000);
  // A run left over from an earlier demo (SKIP) still yields its summary: wait for that one instead.
  const workflowId = run.outcome === 'started' ? run.workflowId : run.outcome === 'skipped' ? run.runningWorkflowId : undefined;
  if (!workflowId) say(`${HOURLY_SCHEDULE_ID} did not start a run within 30 s; see \`npm run reelflow -- schedule describe\``);
  const summary = workflowId ? ((await deps.client.workflow.getHandle(workflowId).result()) as GenerationSummary) : undefined;
  const ids = summary?.created.map((c) => c.id) ?? [];
  say(`recommendation engine: ${ids.length} new recommendations (${summary?.skipped ?? 0} already known from an earlier run)`);

  // What the daily 08:00 run would do, now: one chollo per qualifying player, once a day.
  const bargains = await createBargainAnalyzer({ db: deps.database.db, service: deps.service }).generateDailyBargains({ limit: 2 });
  say(`daily bargains of ${bargains.day}: ${bargains.created.length} new (${bargains.skipped} already made today)`);
  ids.push(...bargains.ids);

  const { recommendation } = await deps.service.enqueue({
    title: 'Última hora: lesión en el Betis, ¿a quién fichar?',
    type: 'breaking_news',
    priority: 'P0',
    source: 'breaking_news',
    scheduleAfter: new Date(Date.now() + 20_000).toISOString(),
    jobConfig: { platforms: ['instagram'] },
    dedupeKey: `demo:breaking:${Date.now().toString(36)}`,
  });
  ids.push(recommendation.id);
  return ids;
}
