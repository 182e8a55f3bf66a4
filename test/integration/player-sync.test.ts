/**
 * The API-Football player sync end to end: playerSyncWorkflow on real Temporal,
 * each request an automation_queue job through the gate, the API-Football
 * simulator over HTTP, the merge in this test's PostgreSQL database.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PlayerSyncSummary } from '../../src/activities/api-football';
import { loadRosterFile } from '../../src/recommendations/roster';
import type { UnmatchedPlayer } from '../../src/recommendations/player-sync';
import { SIM_MISSING_ROSTER_ID, SIM_MOVED_PLAYER_ID, SIM_PLAYERS } from '../../src/simulators/api-football-data';
import { FAILURE_TYPES } from '../../src/shared/messages';
import { PLAYER_SYNC_WORKFLOW } from '../../src/shared/workflow-ids';
import type { PlayerSyncInput } from '../../src/workflows/player-sync';
import { runCli, startHarness, type Harness } from '../helpers/harness';

const SAMPLE = path.resolve(__dirname, '../../data/sample/players.json');
/** The per-minute wait after a 429, shortened from 60 s. */
const RATE_LIMIT_WAIT_MS = 1_500;
const PAGES = Math.ceil(SIM_PLAYERS.length / 20);

let h: Harness;
let runs = 0;

interface PlayerRow {
  id: string;
  team: string;
  position: string;
  price: number;
  points: number;
  minutes: number;
  rating: number | null;
  appearances: number | null;
  goals: number | null;
  assists: number | null;
  injury_status: string;
  injury_reason: string | null;
  api_football_id: number | null;
  photo_url: string | null;
  stats_updated_at: Date | null;
}

const pool = () => h.db.database.pool;
const sim = () => h.sims.api_football;
const players = async () =>
  new Map((await pool().query<PlayerRow>('SELECT *, price::float AS price FROM players ORDER BY id')).rows.map((r) => [r.id, r] as const));

function sync(input: PlayerSyncInput = {}): Promise<PlayerSyncSummary> {
  runs += 1;
  return h.client.workflow.execute(PLAYER_SYNC_WORKFLOW, {
    taskQueue: h.taskQueue,
    workflowId: `player-sync-test-${runs}-${Date.now()}`,
    args: [input],
  });
}

/** The failure the workflow ended with, down to the provider's words. */
async function syncFailure(input: PlayerSyncInput = {}): Promise<{ message: string; type: string | undefined }> {
  const err = await sync(input).then(
    () => {
      throw new Error('the sync succeeded');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause = (err as WorkflowFailedError).cause as (Error & { type?: string; cause?: Error }) | undefined;
  while (cause?.cause) cause = cause.cause as Error & { type?: string; cause?: Error };
  return { message: cause?.message ?? '', type: cause?.type };
}

const lastRun = async () =>
  (
    await pool().query<{ error: string | null; matched: number; requests: number; unmatched: UnmatchedPlayer[]; finished_at: Date | null }>(
      'SELECT * FROM player_sync_runs ORDER BY started_at DESC LIMIT 1',
    )
  ).rows[0]!;

beforeAll(async () => {
  h = await startHarness({
    limits: { api_football: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    env: { API_FOOTBALL_RATE_LIMIT_WAIT_MS: String(RATE_LIMIT_WAIT_MS), API_FOOTBALL_KEY: 'test-key' },
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

beforeEach(async () => {
  sim().reset();
  // A fresh simulator is a fresh day: the gate's count and the API's last reading of the previous test's day go too.
  await pool().query(`DELETE FROM quota_usage WHERE quota = 'api_football_requests'`);
  await pool().query(`UPDATE provider_quotas SET reported_at = NULL, parked_until = NULL WHERE name = 'api_football_requests'`);
  await pool().query('DELETE FROM player_sync_runs');
  // Tests take out the gate's 6 s spacing, so the simulator's 10 a minute would refuse the second sync.
  sim().configure({ perMinute: 1_000 });
  await pool().query('DELETE FROM players');
  await pool().query('DELETE FROM fixtures');
  await loadRosterFile(h.db.database.db, SAMPLE);
});

describe('player sync', () => {
  it('reads every page, merges stats, keeps the price file, maps injuries and lists the unmatched', async () => {
    const before = await players();
    const summary = await sync();

    // Every players page once, then injuries and fixtures: one job each, all through the gate.
    const requested = sim().state.log.map((l) => `${l.path}${l.query.page ? `:${l.query.page}` : ''}`);
    expect(requested).toEqual([...Array.from({ length: PAGES }, (_, i) => `/players:${i + 1}`), '/injuries', '/fixtures']);
    const { rows: jobs } = await pool().query<{ status: string; api_provider: string; job_type: string }>(
      `SELECT status, api_provider, job_type FROM automation_queue WHERE workflow_id LIKE 'player-sync-test-%'`,
    );
    expect(jobs).toHaveLength(PAGES + 2);
    expect(jobs.every((j) => j.status === 'completed' && j.api_provider === 'api_football' && j.job_type === 'api_football_sync')).toBe(
      true,
    );

    const onRoster = SIM_PLAYERS.filter((p) => p.rosterId);
    expect(summary).toMatchObject({ playersRead: SIM_PLAYERS.length, matched: onRoster.length, requests: PAGES + 2, fixtures: 10 });
    expect(summary.unmatched).toBe(SIM_PLAYERS.length - onRoster.length);

    const after = await players();
    for (const p of onRoster) {
      const row = after.get(p.rosterId!)!;
      const was = before.get(p.rosterId!)!;
      // Fantasy prices and points stay from the price file.
      expect({ price: row.price, points: row.points }, p.name).toEqual({ price: was.price, points: was.points });
      expect(row.api_football_id, p.name).toBe(p.id);
      expect(row.minutes, p.name).toBe(p.spells.reduce((n, s) => n + s.minutes, 0));
      expect(row.goals, p.name).toBe(p.spells.reduce((n, s) => n + s.goals, 0));
      expect(row.photo_url).toBe(`https://media.api-sports.io/football/players/${p.id}.png`);
      expect(row.stats_updated_at).toBeInstanceOf(Date);
    }
    // Same initial and surname at two clubs: the club decides.
    expect(after.get('ivan-romero')!.api_football_id).toBe(182239);
    expect(after.get('isaac-romero')!.api_football_id).toBe(161928);
    // "Atletico Madrid" is written our way.
    expect(after.get('jan-oblak')!.team).toBe('Atlético de Madrid');
    expect(after.get('jan-oblak')!.position).toBe('GK');
    // Moved mid-season: both spells summed, the new club kept.
    const moved = SIM_PLAYERS.find((p) => p.id === SIM_MOVED_PLAYER_ID)!;
    expect(moved.spells).toHaveLength(2);
    expect(after.get(moved.rosterId!)).toMatchObject({
      team: 'Getafe',
      appearances: moved.spells[0]!.appearances + moved.spells[1]!.appearances,
    });
    // Not in the API's list: untouched.
    expect(after.get(SIM_MISSING_ROSTER_ID)).toMatchObject({
      api_football_id: null,
      stats_updated_at: null,
      minutes: before.get(SIM_MISSING_ROSTER_ID)!.minutes,
    });

    // Missing Fixture -> injured, Questionable -> doubtful, an injury two months old -> fit.
    expect(after.get('nico-williams')).toMatchObject({ injury_status: 'injured', injury_reason: 'Groin Injury' });
    expect(after.get('ante-budimir')).toMatchObject({ injury_status: 'doubtful', injury_reason: 'Knock' });
    expect(after.get('vinicius-junior')).toMatchObject({ injury_status: 'injured', injury_reason: 'Suspended' });
    expect(after.get('kylian-mbappe')).toMatchObject({ injury_status: 'fit', injury_reason: null });
    expect(summary).toMatchObject({ injured: 2, doubtful: 1 });

    const run = await lastRun();
    expect(run).toMatchObject({ error: null, matched: onRoster.length, requests: PAGES + 2 });
    expect(run.unmatched).toHaveLength(SIM_PLAYERS.length - onRoster.length);
    expect(run.unmatched).toContainEqual({ apiFootballId: 10009, name: 'Rodrygo', team: 'Real Madrid', reason: 'not_on_roster' });
    // A surname we have at another club (Joan García, Barcelona) is not a match.
    expect(run.unmatched).toContainEqual(expect.objectContaining({ name: 'Á. García', team: 'Rayo Vallecano' }));
    const { rows: fixtures } = await pool().query('SELECT * FROM fixtures');
    expect(fixtures).toHaveLength(10);

    // The next sync finds everyone by the stored id.
    const again = await sync();
    expect(again).toMatchObject({ matched: onRoster.length, matchedById: onRoster.length });
  }, 120_000);

  it('retries a per-minute 429 after the wait and still merges', async () => {
    // The third request in a window of 3 s gets 429; the retry comes RATE_LIMIT_WAIT_MS later.
    sim().configure({ perMinute: 2, windowMs: 3_000 });
    const summary = await sync();
    expect(summary.matched).toBeGreaterThan(40);
    const log = sim().state.log;
    const limited = log.filter((l) => l.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const first = limited[0]!;
    const retry = log.find((l) => l.at > first.at && l.status === 200 && JSON.stringify(l.query) === JSON.stringify(first.query))!;
    expect(retry.at - first.at).toBeGreaterThanOrEqual(RATE_LIMIT_WAIT_MS - 50);
    expect((await lastRun()).error).toBeNull();
  }, 120_000);

  it('a spent daily quota ends the sync at once with a clear error, not retried, nothing merged', async () => {
    sim().configure({ perDay: 0 });
    const before = await players();
    const failure = await syncFailure();
    expect(failure.type).toBe(FAILURE_TYPES.dailyQuota);
    expect(failure.message).toMatch(/daily request quota is spent .* resets around/);
    // One request: a quota error is not retried in a loop.
    expect(sim().state.log).toHaveLength(1);
    expect(await players()).toEqual(before);
    const run = await lastRun();
    expect(run.error).toMatch(/daily request quota is spent/);
    expect(run.finished_at).toBeInstanceOf(Date);

    // Parked until the reset: the next sync makes no request at all, unless forced.
    sim().configure({ perDay: 100 });
    const parked = await syncFailure();
    expect(parked.type).toBe(FAILURE_TYPES.dailyQuota);
    expect(parked.message).toMatch(/this sync made no request and resets around .*--force/);
    expect(sim().state.log).toHaveLength(1);
    expect(await sync({ force: true })).toMatchObject({ requests: PAGES + 2 });
  }, 120_000);

  it('stops paging before the quota runs short (reserve kept), with a partial-run error and no merge', async () => {
    // Page 1 leaves 5 today; the rest needs PAGES - 1 + 2 > 5 - reserve 10.
    sim().configure({ perDay: 6 });
    const before = await players();
    const failure = await syncFailure();
    expect(failure.type).toBe(FAILURE_TYPES.quotaBudget);
    expect(failure.message).toMatch(
      new RegExp(`stopped before players page 2 of ${PAGES}: the sync still needs ${PAGES + 1} requests, the API says 5 are left`),
    );
    expect(sim().state.log).toHaveLength(1);
    expect(await players()).toEqual(before);
    expect((await lastRun()).error).toMatch(/nothing was merged/);
  }, 120_000);

  it('an empty player list (a season the API has nothing for) fails instead of merging nothing', async () => {
    const failure = await syncFailure({ season: 2019 });
    expect(failure.message).toMatch(/no players for league 140 season 2019 .*nothing was merged/);
    expect(sim().state.log).toHaveLength(1);
  }, 120_000);

  it('a refused key is a clear permanent error after one request', async () => {
    sim().configure({ validKey: 'another-key' });
    const failure = await syncFailure();
    expect(failure.message).toMatch(/API key was refused \(errors\.token/);
    // Refused before any endpoint: the simulator's request counter, not its endpoint log.
    expect(sim().stats().requests).toBe(1);
    expect((await lastRun()).error).toMatch(/API key was refused/);
  }, 120_000);
});

describe('CLI: players sync | unmatched', () => {
  it('syncs and prints counts (exit 0), lists the unmatched, and refuses a bad season (exit 2)', async () => {
    await pool().query('DELETE FROM player_sync_runs');
    const noRun = await runCli(h, ['players', 'unmatched']);
    expect(noRun.code).toBe(1);

    const r = await runCli(h, ['players', 'sync']);
    expect(r.code, r.stderr).toBe(0);
    const matched = SIM_PLAYERS.filter((p) => p.rosterId).length;
    expect(r.stdout).toMatch(
      new RegExp(
        `${SIM_PLAYERS.length} API players read in ${PAGES + 2} requests, ${matched} matched, ${SIM_PLAYERS.length - matched} unmatched`,
      ),
    );

    const list = await runCli(h, ['players', 'unmatched']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/Rodrygo \(Real Madrid\): not on the roster/);
    expect(list.stdout).toMatch(/Á\. García \(Rayo Vallecano\): /);

    for (const season of ['25', '0202']) {
      const bad = await runCli(h, ['players', 'sync', '--season', season]);
      expect(bad.code, season).toBe(2);
      expect(bad.stderr).toMatch(/--season must be a 4-digit start year from 2000 to 2100/);
    }
  }, 180_000);
});
