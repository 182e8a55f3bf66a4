/**
 * Player sync activities (API-Football).
 *
 * - api_football queue: fetchApiFootball, one API request per automation_queue
 *   job through runProviderJob, so the gate's spacing (one start every 6 s on the
 *   free plan's 10 a minute) holds across every worker. The rows are kept in the
 *   job's result; the workflow only gets counts and the rate-limit headers.
 * - base queue: startPlayerSync, enqueueApiFootballJob, mergePlayerSync (reads the
 *   jobs' results and merges them in one transaction), failPlayerSync.
 *
 * Failures: a per-minute 429 is retried after its wait; a spent daily quota ends
 * the job at once (non-retryable: calls before the reset would be refused too, and
 * each one is logged against us); a refused key is permanent.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ProviderError } from '../providers/errors';
import { API_FOOTBALL_CODES, ApiFootballClient, currentSeason, type RateLimitReading } from '../providers/api-football/client';
import {
  applyPlayerSync,
  compactFixtures,
  compactInjuries,
  compactPlayers,
  failSyncRun,
  parkedMessage,
  quotaParkedUntil,
  startSyncRun,
  type ApiFixtureRow,
  type ApiInjuryRow,
  type ApiPlayerRow,
  type PlayerSyncResult,
} from '../recommendations/player-sync';
import { FAILURE_TYPES } from '../shared/messages';
import type { ActivityDeps } from './deps';
import { classified } from './failures';
import { runProviderJob } from './provider-job';
import { reportJobQuota } from '../gate/quotas';
import { enqueueJob } from '../db/queries';

export type ApiFootballRequest =
  | { kind: 'players'; league: number; season: number; page: number }
  | { kind: 'injuries'; league: number; season: number }
  | { kind: 'fixtures'; league: number; season: number; next: number };

/** What a request's job keeps as its result (automation_queue.result). */
interface StoredResult {
  kind: ApiFootballRequest['kind'];
  paging: { current: number; total: number };
  rateLimit: RateLimitReading;
  rows: ApiPlayerRow[] | ApiInjuryRow[] | ApiFixtureRow[];
}

/** What the workflow gets back: no rows, they stay in the database. */
export interface ApiFootballFetchSummary {
  kind: ApiFootballRequest['kind'];
  /** Players: the page read and paging.total. */
  page: number;
  totalPages: number;
  rows: number;
  rateLimit: RateLimitReading;
}

export interface PlayerSyncPlanSettings {
  league: number;
  season: number;
  maxPages: number;
  dailyReserve: number;
  fixturesNext: number;
}

export interface PlayerSyncSummary extends Omit<PlayerSyncResult, 'unmatched'> {
  syncRunId: string;
  season: number;
  requests: number;
  unmatched: number;
  /** The first unmatched rows (all of them are in player_sync_runs.unmatched). */
  unmatchedSample: PlayerSyncResult['unmatched'];
}

const UNMATCHED_SAMPLE = 20;

export function createApiFootballClient(env: ActivityDeps['env']): ApiFootballClient {
  return new ApiFootballClient({
    baseUrl: env.API_FOOTBALL_BASE_URL,
    apiKey: env.API_FOOTBALL_KEY,
    fixturesWithSeason: env.API_FOOTBALL_FIXTURES_WITH_SEASON,
    rateLimitWaitMs: env.API_FOOTBALL_RATE_LIMIT_WAIT_MS,
    quotaResetUtc: env.API_FOOTBALL_QUOTA_RESET_UTC,
  });
}

function summaryOf(stored: StoredResult): ApiFootballFetchSummary {
  return {
    kind: stored.kind,
    page: stored.paging.current,
    totalPages: stored.paging.total,
    rows: stored.rows.length,
    rateLimit: stored.rateLimit,
  };
}

/** Activities for the api_football provider worker. */
export function createApiFootballActivities(deps: ActivityDeps, options: { client?: ApiFootballClient } = {}) {
  const client = options.client ?? createApiFootballClient(deps.env);
  return {
    async fetchApiFootball(input: { jobId: string; request: ApiFootballRequest }): Promise<ApiFootballFetchSummary> {
      const stored = await runProviderJob<StoredResult>(deps, input.jobId, 'api_football', async (ctx) => {
        const r = input.request;
        try {
          const result = await ctx.call(async (): Promise<StoredResult> => {
            switch (r.kind) {
              case 'players': {
                const res = await client.playersPage(r);
                return { kind: r.kind, paging: res.paging, rateLimit: res.rateLimit, rows: compactPlayers(res.items) };
              }
              case 'injuries': {
                const res = await client.injuries(r);
                return { kind: r.kind, paging: res.paging, rateLimit: res.rateLimit, rows: compactInjuries(res.items) };
              }
              case 'fixtures': {
                const res = await client.nextFixtures(r);
                return { kind: r.kind, paging: res.paging, rateLimit: res.rateLimit, rows: compactFixtures(res.items) };
              }
            }
          });
          deps.log.info(
            { jobId: input.jobId, request: r, rows: result.rows.length, paging: result.paging, rateLimit: result.rateLimit },
            'api-football request answered',
          );
          // The day's remaining requests as the API counts them (another key user, a manual call): the gate counts the larger use.
          const reading = client.lastQuota();
          if (reading)
            await reportJobQuota(deps.database.pool, input.jobId, reading).catch((err) =>
              deps.log.warn({ err }, 'quota reading not recorded'),
            );
          // Whether injuries and fixtures page at all is unconfirmed: only their first page is read.
          if (r.kind !== 'players' && result.paging.total > 1)
            deps.log.warn({ request: r, paging: result.paging }, 'api-football paged an answer we read one page of');
          return { value: result };
        } catch (err) {
          if (err instanceof ProviderError && err.details.code === API_FOOTBALL_CODES.dailyQuota) {
            // Not retried: every call before the reset is refused the same way.
            throw ApplicationFailure.create({
              message: err.message,
              type: FAILURE_TYPES.dailyQuota,
              nonRetryable: true,
              details: [{ provider: err.provider, kind: err.kind, ...err.details }],
            });
          }
          throw err;
        }
      });
      return summaryOf(stored);
    },
  };
}

/** Activities for the base worker. */
export function createPlayerSyncActivities(deps: ActivityDeps) {
  const { pool } = deps.database;
  return {
    /**
     * Records the run and settles its settings from the environment (the workflow cannot read it).
     * Refuses (non-retryable) while an earlier run's spent daily quota has not reset, unless forced.
     */
    async startPlayerSync(input: {
      syncRunId: string;
      season: number | null;
      at: string;
      force?: boolean;
    }): Promise<PlayerSyncPlanSettings> {
      return classified(async () => {
        const env = deps.env;
        const season = input.season ?? env.API_FOOTBALL_SEASON ?? currentSeason(new Date(input.at));
        const parked = input.force ? null : await quotaParkedUntil(pool, new Date());
        await startSyncRun(pool, input.syncRunId, season);
        if (parked) throw ApplicationFailure.create({ message: parkedMessage(parked), type: FAILURE_TYPES.dailyQuota, nonRetryable: true });
        return {
          league: env.API_FOOTBALL_LEAGUE,
          season,
          maxPages: env.API_FOOTBALL_MAX_PAGES,
          dailyReserve: env.API_FOOTBALL_DAILY_RESERVE,
          fixturesNext: env.API_FOOTBALL_FIXTURES_NEXT,
        };
      });
    },

    /** One job per request; the step carries the run id, so a retried step reuses its job (and its answer). */
    async enqueueApiFootballJob(input: { workflowId: string; runId: string; step: string }): Promise<string> {
      return classified(async () => {
        const job = await enqueueJob(pool, deps.limits, {
          workflowId: input.workflowId,
          step: `${input.step}:${input.runId}`,
          jobType: 'api_football_sync',
          // Background data: any urgent call of another kind on this provider goes first.
          priority: 'P3',
          runId: input.runId,
        });
        return job.id;
      });
    },

    /** Reads every request's rows from its job and merges them in one transaction. */
    async mergePlayerSync(input: {
      syncRunId: string;
      season: number;
      requests: number;
      playerJobIds: string[];
      injuriesJobId: string;
      fixturesJobId: string;
    }): Promise<PlayerSyncSummary> {
      return classified(async () => {
        const ids = [...input.playerJobIds, input.injuriesJobId, input.fixturesJobId];
        const { rows } = await pool.query<{ id: string; status: string; result: StoredResult | null }>(
          'SELECT id, status, result FROM automation_queue WHERE id = ANY($1::uuid[])',
          [ids],
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        const rowsOf = <T>(id: string): T[] => {
          const job = byId.get(id);
          if (!job || job.status !== 'completed' || !job.result) {
            throw ApplicationFailure.nonRetryable(`api-football job ${id} has no answer (status ${job?.status ?? 'missing'})`);
          }
          return job.result.rows as T[];
        };
        const result = await applyPlayerSync(pool, {
          syncRunId: input.syncRunId,
          requests: input.requests,
          players: input.playerJobIds.flatMap((id) => rowsOf<ApiPlayerRow>(id)),
          injuries: rowsOf<ApiInjuryRow>(input.injuriesJobId),
          fixtures: rowsOf<ApiFixtureRow>(input.fixturesJobId),
        });
        deps.log.info(
          { syncRunId: input.syncRunId, matched: result.matched, unmatched: result.unmatched.length, fixtures: result.fixtures },
          'player sync merged',
        );
        return {
          ...result,
          syncRunId: input.syncRunId,
          season: input.season,
          requests: input.requests,
          unmatched: result.unmatched.length,
          unmatchedSample: result.unmatched.slice(0, UNMATCHED_SAMPLE),
        };
      });
    },

    async failPlayerSync(input: { syncRunId: string; error: string; requests: number }): Promise<void> {
      return classified(async () => {
        await failSyncRun(pool, input.syncRunId, input.error, input.requests);
      });
    },
  };
}
