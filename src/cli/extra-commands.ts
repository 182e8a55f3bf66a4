/**
 * Commands beyond the queue basics. Each gets the parsed flags and a database;
 * it returns the exit code.
 *   reelflow schedule create|pause|unpause|trigger|describe [hourly|bargains] [note]
 *   reelflow roster load <file.json|file.csv>
 *   reelflow recommendations generate [--limit lookbackDays] | stats
 *   reelflow bargains [--limit N]          the daily bargains now (P1 each, once per player and day)
 *   reelflow breaking --title "..." [--player X] [--platforms a,b]   a P0 breaking-news video
 *   reelflow competitor ingest [file]      (default: the shipped sample)
 *   reelflow token:create --name N --role read|operator | token:revoke <id> | token:list
 */
import path from 'node:path';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import { createBargainAnalyzer, dailyBargainsOptionsSchema } from '../recommendations/bargains';
import { createRecommendationEngine } from '../recommendations/engine';
import { ingestCompetitorVideos } from '../recommendations/ingest';
import { loadRosterFile } from '../recommendations/roster';
import { readRecommendationStats } from '../recommendations/stats';
import { scheduleCommand } from '../schedule/command';
import { createRecommendationService, type RecommendationService } from '../services/recommendations';
import { connectTemporal } from '../temporal/client';
import { enqueueRecommendationSchema, parseInput } from '../validation';
import { BadInputError } from '../shared/errors';
import { tokenCommands } from './token-commands';

export interface ExtraCommandContext {
  env: Env;
  database: Database;
  args: string[];
  values: Record<string, unknown>;
  out: (data: unknown, human: () => void) => void;
}

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');

/** Flags a command does not use are an error, not silently ignored (`breaking --priority P2` is not a P2). */
function onlyFlags(ctx: ExtraCommandContext, command: string, allowed: readonly string[]): void {
  const extra = Object.keys(ctx.values).filter((k) => k !== 'json' && ctx.values[k] !== undefined && !allowed.includes(k));
  if (extra.length) throw new BadInputError(`${command} takes only ${allowed.map((f) => `--${f}`).join(', ')} (not --${extra[0]})`);
  if (ctx.args.length) throw new BadInputError(`${command} takes no arguments (got "${ctx.args[0]}")`);
}

/** The operators' service on a fresh Temporal connection, closed afterwards. */
async function withService<T>(ctx: ExtraCommandContext, fn: (service: RecommendationService) => Promise<T>): Promise<T> {
  const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
  try {
    return await fn(createRecommendationService({ database: ctx.database, client, taskQueue: ctx.env.REELFLOW_TASK_QUEUE }));
  } finally {
    await client.connection.close();
  }
}

export const extraCommands: Record<string, (ctx: ExtraCommandContext) => Promise<number>> = {
  ...tokenCommands,
  schedule: scheduleCommand,

  async roster(ctx) {
    const [sub, file] = ctx.args;
    if (sub !== 'load') throw new BadInputError('roster needs: load <file.json|file.csv>');
    const result = await loadRosterFile(ctx.database.db, file ?? path.join(SAMPLE_DIR, 'players.json'));
    ctx.out(result, () => console.log(`roster: ${result.upserted} players loaded`));
    return 0;
  },

  async recommendations(ctx) {
    const [sub] = ctx.args;
    if (sub !== 'generate' && sub !== 'stats') throw new BadInputError('recommendations needs: generate | stats');
    await withService(ctx, async (service) => {
      const engine = createRecommendationEngine({ db: ctx.database.db, enqueue: (id) => service.start(id) });
      if (sub === 'stats') {
        const stats = await readRecommendationStats(ctx.database.db);
        ctx.out(stats, () => console.log(JSON.stringify(stats, null, 2)));
      } else {
        const lookbackDays = ctx.values.limit ? Number(ctx.values.limit) : 7;
        const result = await engine.generateRecommendations({ lookbackDays });
        ctx.out(result, () => {
          console.log(`created ${result.created.length} recommendations, skipped ${result.skipped} already known`);
          for (const r of result.created) console.log(`  ${r.priority}  ${r.recommendationType.padEnd(17)} ${r.title}`);
        });
      }
    });
    return 0;
  },

  async bargains(ctx) {
    onlyFlags(ctx, 'bargains', ['limit']);
    const options = parseInput(dailyBargainsOptionsSchema, { limit: ctx.values.limit === undefined ? undefined : Number(ctx.values.limit) }, 'bargains');
    const result = await withService(ctx, (service) => createBargainAnalyzer({ db: ctx.database.db, service }).generateDailyBargains(options));
    ctx.out(result, () => {
      console.log(`bargains of ${result.day}: created ${result.created.length}, skipped ${result.skipped} already known (${result.candidates} players qualify)`);
      for (const r of result.created) console.log(`  ${r.priority}  ${r.id}  ${r.title}  (deadline ${r.urgencyDeadline?.toISOString()})`);
    });
    return 0;
  },

  async breaking(ctx) {
    onlyFlags(ctx, 'breaking', ['title', 'player', 'platforms']);
    const v = ctx.values as { title?: string; player?: string; platforms?: string };
    if (v.title === undefined) throw new BadInputError('breaking needs --title "..."');
    const input = {
      title: v.title,
      type: 'breaking_news',
      priority: 'P0',
      source: 'breaking_news',
      targetPlayer: v.player,
      jobConfig: v.platforms === undefined ? {} : { platforms: v.platforms.split(',').map((p) => p.trim()) },
    };
    // Before any server is touched; the service parses the raw input again (see enqueueInput in main.ts).
    parseInput(enqueueRecommendationSchema, input, 'breaking');
    const result = await withService(ctx, (service) => service.enqueue(input));
    ctx.out(result, () =>
      console.log(
        `enqueued breaking news ${result.recommendation.id} (P0, deadline ${result.recommendation.urgencyDeadline?.toISOString()}) as workflow ${result.workflowId}\n` +
          `  Web UI: ${ctx.env.TEMPORAL_UI_URL}/namespaces/${ctx.env.TEMPORAL_NAMESPACE}/workflows/${result.workflowId}`,
      ),
    );
    return 0;
  },

  async competitor(ctx) {
    const [sub, file] = ctx.args;
    if (sub !== 'ingest') throw new BadInputError('competitor needs: ingest [file]');
    const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
    try {
      const handles = await ingestCompetitorVideos(client, ctx.env.REELFLOW_TASK_QUEUE, file ?? path.join(SAMPLE_DIR, 'competitor-videos.json'));
      ctx.out(handles.map((h) => h.workflowId), () => console.log(`started ${handles.length} competitor video workflows`));
    } finally {
      await client.connection.close();
    }
    return 0;
  },
};
