/**
 * Commands beyond the queue basics. Each gets the parsed flags and a database;
 * it returns the exit code.
 *   reelflow schedule create|pause|unpause|trigger|describe [note]
 *   reelflow roster load <file.json|file.csv>
 *   reelflow recommendations generate [--limit lookbackDays] | stats
 *   reelflow competitor ingest [file]      (default: the shipped sample)
 *   reelflow token:create --name N --role read|operator | token:revoke <id> | token:list
 */
import path from 'node:path';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import { createRecommendationEngine } from '../recommendations/engine';
import { ingestCompetitorVideos } from '../recommendations/ingest';
import { loadRosterFile } from '../recommendations/roster';
import { scheduleCommand } from '../schedule/hourly';
import { createRecommendationService } from '../services/recommendations';
import { connectTemporal } from '../temporal/client';
import { BadInputError } from '../validation';
import { tokenCommands } from './token-commands';

export interface ExtraCommandContext {
  env: Env;
  database: Database;
  args: string[];
  values: Record<string, unknown>;
  out: (data: unknown, human: () => void) => void;
}

const SAMPLE_DIR = path.resolve(__dirname, '../../data/sample');

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
    const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
    try {
      const service = createRecommendationService({ database: ctx.database, client, taskQueue: ctx.env.REELFLOW_TASK_QUEUE });
      const engine = createRecommendationEngine({ db: ctx.database.db, enqueue: (id) => service.start(id) });
      if (sub === 'stats') {
        const stats = await engine.getStats();
        ctx.out(stats, () => console.log(JSON.stringify(stats, null, 2)));
      } else {
        const lookbackDays = ctx.values.limit ? Number(ctx.values.limit) : 7;
        const result = await engine.generateRecommendations({ lookbackDays });
        ctx.out(result, () => {
          console.log(`created ${result.created.length} recommendations, skipped ${result.skipped} already known`);
          for (const r of result.created) console.log(`  ${r.priority}  ${r.recommendationType.padEnd(17)} ${r.title}`);
        });
      }
    } finally {
      await client.connection.close();
    }
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
