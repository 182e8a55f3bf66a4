/**
 * Where the demo's work comes from, the same way production gets it:
 * the roster is loaded, the sample competitor videos are transcribed and
 * analysed (one workflow each), the hourly Schedule is created and triggered,
 * and its run turns the analyses into recommendations that start their video
 * workflows. Two ideas from the other sources are added by hand: a daily
 * bargain (P3) and a breaking-news P0 scheduled 20 s ahead.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { GenerationSummary } from '../activities/competitor';
import { ingestCompetitorVideos } from '../recommendations/ingest';
import { loadRosterFile } from '../recommendations/roster';
import { describeHourlySchedule, ensureHourlySchedule, HOURLY_SCHEDULE_ID, triggerHourlySchedule } from '../schedule/hourly';
import type { RecommendationService } from '../services/recommendations';

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');

export async function seedDemo(deps: {
  database: Database;
  client: Client;
  service: RecommendationService;
  taskQueue: string;
  say: (line: string) => void;
}): Promise<string[]> {
  const { say } = deps;
  const roster = await loadRosterFile(deps.database.db, path.join(SAMPLE_DIR, 'players.json'));
  say(`roster: ${roster.upserted} players loaded`);
  const videos = await ingestCompetitorVideos(deps.client, deps.taskQueue, path.join(SAMPLE_DIR, 'competitor-videos.json'));
  say(`competitor videos: ${videos.length} workflows transcribing and analysing (OpenAI: 5 at once, 1 s apart)...`);
  await Promise.all(videos.map((h) => h.result().catch((err: Error) => say(`  ${h.workflowId}: ${err.message}`))));

  const { created } = await ensureHourlySchedule(deps.client, { taskQueue: deps.taskQueue });
  say(`schedule ${HOURLY_SCHEDULE_ID} ${created ? 'created' : 'updated'}; triggering one run now`);
  const before = (await describeHourlySchedule(deps.client))?.info.recentActions.length ?? 0;
  await triggerHourlySchedule(deps.client);
  let summary: GenerationSummary | undefined;
  for (let i = 0; i < 120 && !summary; i++) {
    const d = await describeHourlySchedule(deps.client);
    const actions = d?.info.recentActions ?? [];
    const last = actions[actions.length - 1];
    if (actions.length > before && last) {
      summary = (await deps.client.workflow.getHandle(last.action.workflow.workflowId).result()) as GenerationSummary;
    } else {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const ids = summary?.created.map((c) => c.id) ?? [];
  say(`recommendation engine: ${ids.length} new recommendations (${summary?.skipped ?? 0} already known from an earlier run)`);

  const run = Date.now().toString(36);
  const manual = [
    { title: 'Chollos de la jornada: tres defensas por menos de 5 M', type: 'bargain', priority: 'P3', source: 'bargain', jobConfig: { platforms: ['instagram', 'tiktok'] } },
    {
      title: 'Última hora: lesión en el Betis, ¿a quién fichar?',
      type: 'breaking_news',
      priority: 'P0',
      source: 'breaking_news',
      scheduleAfter: new Date(Date.now() + 20_000).toISOString(),
      jobConfig: { platforms: ['instagram'] },
    },
  ];
  for (const [i, input] of manual.entries()) {
    const { recommendation } = await deps.service.enqueue({ ...input, dedupeKey: `demo:${run}:${i}` });
    ids.push(recommendation.id);
  }
  return ids;
}
