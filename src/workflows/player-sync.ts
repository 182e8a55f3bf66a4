/**
 * playerSyncWorkflow: our player data from API-Football, once a day.
 *
 *   record the run -> players page 1 (paging.total) -> budget check
 *   -> pages 2..total -> injuries -> next fixtures -> merge (one transaction)
 *
 * Every request is its own automation_queue job on provider api_football, run
 * through the gate, so the free plan's 10 a minute holds whoever else calls.
 * The daily quota (100 on the free plan) is guarded twice: before page 2 and
 * before every later request, the run compares what it still needs with what
 * the API says is left today minus a reserve, and stops with an error rather
 * than spend the day's last calls on half a sync. Nothing is merged unless every
 * request answered: a failed run leaves yesterday's data whole and says why in
 * player_sync_runs.error.
 */
import * as wf from '@temporalio/workflow';
import { JOB_ESTIMATES_SECONDS } from '../config/providers';
import { providerActivityOptions } from '../shared/activity-options';
import { FAILURE_TYPES } from '../shared/messages';
import type {
  ApiFootballFetchSummary,
  ApiFootballRequest,
  createApiFootballActivities,
  createPlayerSyncActivities,
  PlayerSyncSummary,
} from '../activities/api-football';

export interface PlayerSyncInput {
  /** Season as its start year. Default: API_FOOTBALL_SEASON, else the season under way. */
  season?: number;
  /** Call even though an earlier run found the daily quota spent and its reset is still ahead. */
  force?: boolean;
}

/** A request may wait this long for its slot: the day's sync is not urgent, but must finish the same day. */
const SLOT_WAIT_BUDGET_MS = 2 * 3_600_000;

const base = wf.proxyActivities<ReturnType<typeof createPlayerSyncActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function playerSyncWorkflow(input: PlayerSyncInput = {}): Promise<PlayerSyncSummary> {
  const info = wf.workflowInfo();
  const syncRunId = wf.uuid4();
  const api = wf.proxyActivities<ReturnType<typeof createApiFootballActivities>>(
    providerActivityOptions({
      provider: 'api_football',
      baseTaskQueue: info.taskQueue,
      estimateSeconds: JOB_ESTIMATES_SECONDS.api_football_sync,
      waitBudgetMs: SLOT_WAIT_BUDGET_MS,
      priority: 'P3',
    }),
  );

  let requests = 0;
  const fetch = async (step: string, request: ApiFootballRequest): Promise<{ jobId: string; answer: ApiFootballFetchSummary }> => {
    const jobId = await base.enqueueApiFootballJob({ workflowId: info.workflowId, runId: info.runId, step });
    requests += 1;
    return { jobId, answer: await api.fetchApiFootball({ jobId, request }) };
  };
  /** Stops before spending calls the run cannot finish with (or the reserve). */
  const checkBudget = (reserve: number, last: ApiFootballFetchSummary, stillNeeded: number, before: string) => {
    const left = last.rateLimit.dailyRemaining;
    if (left === null || stillNeeded <= left - reserve) return;
    throw wf.ApplicationFailure.create({
      message:
        `api-football: stopped before ${before}: the sync still needs ${stillNeeded} requests, the API says ${left} are left today ` +
        `and ${reserve} are kept in reserve (API_FOOTBALL_DAILY_RESERVE); nothing was merged, the roster keeps its data`,
      type: FAILURE_TYPES.quotaBudget,
      nonRetryable: true,
    });
  };

  try {
    const start = { syncRunId, season: input.season ?? null, at: info.startTime.toISOString(), ...(input.force ? { force: true } : {}) };
    const plan = await base.startPlayerSync(start);
    const { league, season } = plan;
    const first = await fetch('players:1', { kind: 'players', league, season, page: 1 });
    const pages = first.answer.totalPages;
    if (first.answer.rows === 0) {
      // Merging nothing would look like a sync that worked; an empty league is a wrong league or season.
      throw wf.ApplicationFailure.create({
        message: `api-football: no players for league ${league} season ${season} (a season the plan does not cover?); nothing was merged`,
        type: FAILURE_TYPES.badInput,
        nonRetryable: true,
      });
    }
    if (pages > plan.maxPages) {
      throw wf.ApplicationFailure.create({
        message: `api-football: ${pages} player pages exceed API_FOOTBALL_MAX_PAGES (${plan.maxPages}); nothing was merged`,
        type: FAILURE_TYPES.quotaBudget,
        nonRetryable: true,
      });
    }
    const playerJobIds = [first.jobId];
    let last = first.answer;
    for (let page = 2; page <= pages; page++) {
      // The rest of the pages, injuries and fixtures.
      checkBudget(plan.dailyReserve, last, pages - page + 1 + 2, `players page ${page} of ${pages}`);
      const next = await fetch(`players:${page}`, { kind: 'players', league, season, page });
      playerJobIds.push(next.jobId);
      last = next.answer;
    }
    checkBudget(plan.dailyReserve, last, 2, 'injuries');
    const injuries = await fetch('injuries', { kind: 'injuries', league, season });
    checkBudget(plan.dailyReserve, injuries.answer, 1, 'fixtures');
    const fixtures = await fetch('fixtures', { kind: 'fixtures', league, season, next: plan.fixturesNext });
    return await base.mergePlayerSync({
      syncRunId,
      season,
      requests,
      playerJobIds,
      injuriesJobId: injuries.jobId,
      fixturesJobId: fixtures.jobId,
    });
  } catch (err) {
    await base.failPlayerSync({ syncRunId, error: failureText(err), requests });
    throw err;
  }
}

/** The provider's own words: an activity failure's cause carries them. */
function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof wf.ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
