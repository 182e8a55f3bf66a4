/**
 * `reelflow players sync [--season YYYY] [--force]`: runs the API-Football player sync
 * now (playerSyncWorkflow on the workers) and prints what it merged; a sync already
 * running from this command is followed rather than started twice. --force calls
 * even while an earlier run's spent daily quota has not reset (a plan upgraded since).
 * `reelflow players unmatched`: the API players the last merged sync could not
 * tie to one roster row (why, and the candidates when there were several).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { PlayerSyncSummary } from '../activities/api-football';
import { latestSyncRuns, type UnmatchedPlayer } from '../recommendations/player-sync';
import { connectTemporal } from '../temporal/client';
import { queueWorkers } from '../temporal/queue-workers';
import { BadInputError } from '../shared/errors';
import { PLAYER_SYNC_MANUAL_WORKFLOW_ID, PLAYER_SYNC_WORKFLOW } from '../shared/workflow-ids';
import { PLAYER_SYNC_METADATA } from '../shared/workflow-metadata';
import type { PlayerSyncInput } from '../workflows/player-sync';
import type { ExtraCommandContext } from './extra-commands';
import { terminalSafe } from './format';

function parseSeason(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const year = Number(raw.trim());
  // The range API_FOOTBALL_SEASON takes: 0202 or 9999 spent one of the day's 100 requests on a season with no players.
  if (!/^\d{4}$/.test(raw.trim()) || year < 2000 || year > 2100)
    throw new BadInputError(`players sync --season must be a 4-digit start year from 2000 to 2100, such as 2025 (got "${raw}")`);
  return year;
}

function unmatchedLine(u: UnmatchedPlayer): string {
  const why =
    u.reason === 'ambiguous'
      ? `ambiguous: ${u.candidates?.join(', ')}`
      : u.reason === 'claimed_twice'
        ? `another API player matches ${u.candidates?.join(', ')} too`
        : 'not on the roster';
  return `  ${String(u.apiFootballId).padStart(7)}  ${terminalSafe(u.name)} (${terminalSafe(u.team ?? 'no club')}): ${why}`;
}

async function sync(ctx: ExtraCommandContext): Promise<number> {
  const season = parseSeason(ctx.values.season);
  const input: PlayerSyncInput = { ...(season !== undefined ? { season } : {}), ...(ctx.values.force ? { force: true } : {}) };
  const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
  try {
    let handle;
    try {
      handle = await client.workflow.start(PLAYER_SYNC_WORKFLOW, {
        workflowId: PLAYER_SYNC_MANUAL_WORKFLOW_ID,
        taskQueue: ctx.env.REELFLOW_TASK_QUEUE,
        args: [input],
        ...PLAYER_SYNC_METADATA,
      });
      if (!ctx.values.json) console.error(`player sync started (workflow ${handle.workflowId}); requests are spaced by the gate...`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = client.workflow.getHandle(PLAYER_SYNC_MANUAL_WORKFLOW_ID);
      if (!ctx.values.json) console.error(`a player sync is already running (workflow ${handle.workflowId}); following it`);
    }
    // The run waits for workers, durably: say so rather than hang in silence.
    const idle = (await queueWorkers(client, ctx.env.REELFLOW_TASK_QUEUE).catch(() => []))
      .filter((q) => (q.queue === 'base' || q.queue === 'api_football') && q.workers === 0)
      .map((q) => q.taskQueue);
    if (idle.length) console.error(`no worker polls ${idle.join(' and ')}: the sync waits until one does (npm run worker)`);
    let summary: PlayerSyncSummary;
    try {
      summary = (await handle.result()) as PlayerSyncSummary;
    } catch (err) {
      // The workflow's failure wraps the activity's, which carries the provider's words.
      let e: unknown = err;
      while (e instanceof Error && e.cause) e = e.cause;
      console.error(`player sync failed: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    ctx.out(summary, () => {
      console.log(
        `player sync (season ${summary.season}): ${summary.playersRead} API players read in ${summary.requests} requests, ` +
          `${summary.matched} matched, ${summary.unmatched} unmatched; ${summary.injured} injured, ${summary.doubtful} doubtful; ` +
          `${summary.fixtures} fixtures`,
      );
      if (summary.unmatched) console.log('  `reelflow players unmatched` lists the unmatched ones');
    });
    return 0;
  } finally {
    await client.connection.close();
  }
}

async function unmatched(ctx: ExtraCommandContext): Promise<number> {
  const { latest, lastMerged } = await latestSyncRuns(ctx.database.pool);
  if (!lastMerged) {
    console.error(
      latest?.error
        ? `no player sync has merged yet; the last one failed: ${latest.error}`
        : 'no player sync has merged yet: run `reelflow players sync`',
    );
    return 1;
  }
  ctx.out({ syncRunId: lastMerged.id, finishedAt: lastMerged.finishedAt, unmatched: lastMerged.unmatched }, () => {
    console.log(
      `sync of ${lastMerged.finishedAt?.toISOString()} (season ${lastMerged.season}): ` +
        `${lastMerged.unmatched.length} of ${lastMerged.playersRead} API players unmatched`,
    );
    for (const u of lastMerged.unmatched) console.log(unmatchedLine(u));
  });
  if (latest && latest.id !== lastMerged.id && latest.error) console.error(`note: a later sync failed: ${latest.error}`);
  return 0;
}

export const playerCommands: Record<string, (ctx: ExtraCommandContext) => Promise<number>> = {
  async players(ctx) {
    const [sub, ...rest] = ctx.args;
    if (rest.length) throw new BadInputError(`players ${sub} takes no arguments (got "${rest[0]}")`);
    if (sub === 'sync') return sync(ctx);
    if (sub === 'unmatched') return unmatched(ctx);
    throw new BadInputError('players needs: sync [--season YYYY] [--force] | unmatched');
  },
};
