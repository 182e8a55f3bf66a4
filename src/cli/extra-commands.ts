/**
 * Commands beyond the queue basics. Each gets the parsed flags and a database;
 * it returns the exit code.
 *   reelflow schedule create|pause|unpause|trigger|describe [hourly|bargains] [note]
 *   reelflow roster load <file.json|file.csv>
 *   reelflow players sync [--season YYYY] [--force] | unmatched   API-Football into the roster (player-commands.ts)
 *   reelflow recommendations generate [--limit lookbackDays] | stats
 *   reelflow bargains [--limit N]          the daily bargains now (P1 each, once per player and day)
 *   reelflow breaking --title "..." [--player X] [--platforms a,b]   a P0 breaking-news video
 *   reelflow competitor ingest [file]      (default: the shipped sample)
 *   reelflow competitor add|list|remove|check|add-video …   watched channels (src/cli/competitor-commands.ts)
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
import { temporalWorkflowUrl } from '../shared/temporal-ui';
import type { FlagValues } from './flags';
import { terminalSafe } from './format';
import { namesCommands } from './names-commands';
import { performanceCommands } from './performance-command';
import { playerCommands } from './player-commands';
import { tokenCommands } from './token-commands';
import { COMPETITOR_CHANNEL_SUBCOMMANDS, COMPETITOR_USAGE, competitorChannelCommand } from './competitor-commands';

export interface ExtraCommandContext {
  env: Env;
  database: Database;
  args: string[];
  /** Only the flags the command declares in flags.ts can be set. */
  values: FlagValues;
  out: (data: unknown, human: () => void) => void;
}

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');

/** Flags are held to each command's list by the parser (flags.ts); stray words are checked here. */
function noArguments(ctx: ExtraCommandContext, command: string): void {
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
  ...playerCommands,
  ...namesCommands,
  ...performanceCommands,
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
    const lookbackDays = ctx.values.limit === undefined ? 7 : Number(ctx.values.limit);
    if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > 90) {
      throw new BadInputError(`--limit (days of videos to read) must be an integer from 1 to 90 (got ${JSON.stringify(ctx.values.limit)})`);
    }
    await withService(ctx, async (service) => {
      const engine = createRecommendationEngine({
        db: ctx.database.db,
        enqueue: (id) => service.start(id),
        learning: { minPosts: ctx.env.REELFLOW_LEARNING_MIN_POSTS },
      });
      if (sub === 'stats') {
        const stats = await readRecommendationStats(ctx.database.db);
        ctx.out(stats, () => console.log(JSON.stringify(stats, null, 2)));
      } else {
        const result = await engine.generateRecommendations({ lookbackDays });
        ctx.out(result, () => {
          console.log(`created ${result.created.length} recommendations, skipped ${result.skipped} already known`);
          for (const r of result.created) console.log(`  ${r.priority}  ${r.recommendationType.padEnd(17)} ${terminalSafe(r.title)}`);
        });
      }
    });
    return 0;
  },

  async bargains(ctx) {
    noArguments(ctx, 'bargains');
    const options = parseInput(
      dailyBargainsOptionsSchema,
      { limit: ctx.values.limit === undefined ? undefined : Number(ctx.values.limit) },
      'bargains',
    );
    const result = await withService(ctx, (service) =>
      createBargainAnalyzer({ db: ctx.database.db, service }).generateDailyBargains(options),
    );
    ctx.out(result, () => {
      console.log(
        `bargains of ${result.day}: created ${result.created.length}, ` +
          `skipped ${result.skipped} already known (${result.candidates} players qualify)`,
      );
      for (const r of result.created)
        console.log(`  ${r.priority}  ${r.id}  ${terminalSafe(r.title)}  (deadline ${r.urgencyDeadline?.toISOString()})`);
    });
    return 0;
  },

  async breaking(ctx) {
    noArguments(ctx, 'breaking');
    const v = ctx.values;
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
    const { uiUrl, namespace } = { uiUrl: ctx.env.TEMPORAL_UI_URL, namespace: ctx.env.TEMPORAL_NAMESPACE };
    ctx.out(result, () =>
      console.log(
        `enqueued breaking news ${result.recommendation.id} ` +
          `(P0, deadline ${result.recommendation.urgencyDeadline?.toISOString()}) as workflow ${result.workflowId}\n` +
          `  Web UI: ${temporalWorkflowUrl({ uiUrl, namespace, workflowId: result.workflowId })}`,
      ),
    );
    return 0;
  },

  async competitor(ctx) {
    const [sub, file] = ctx.args;
    if ((COMPETITOR_CHANNEL_SUBCOMMANDS as readonly string[]).includes(sub ?? '')) return competitorChannelCommand(ctx);
    if (sub !== 'ingest') throw new BadInputError(COMPETITOR_USAGE);
    if (ctx.args.length > 2) throw new BadInputError(`competitor ingest reads one file (got "${ctx.args[2]}" too)`);
    const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
    try {
      const handles = await ingestCompetitorVideos(client, ctx.env.REELFLOW_TASK_QUEUE, { file, env: ctx.env });
      ctx.out(
        handles.map((h) => h.workflowId),
        () => console.log(`started ${handles.length} competitor video workflows`),
      );
    } finally {
      await client.connection.close();
    }
    return 0;
  },
};
