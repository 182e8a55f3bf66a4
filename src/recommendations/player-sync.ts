/**
 * Our player data from API-Football, merged into `players`:
 *
 *   API rows (every players page, injuries, next fixtures)
 *   -> match each API player to a roster row: by api_football_id first, then by
 *      name with the project's resolver and the club as hint (a wrong id is worse
 *      than none: anything short of one resolved player is listed as unmatched)
 *   -> one transaction: ids, club, position, minutes, rating, appearances, goals,
 *      assists, injury status and reason, photo; fixtures upserted; the run recorded.
 *
 * Fantasy prices, points and form stay from the price file (roster.ts): API-Football
 * has none. Roster players the API did not list keep what they had. Plain module:
 * no Temporal (the activities in src/activities/api-football.ts call it).
 */
import type pg from 'pg';
import type { FixtureItem, InjuryItem, PlayerItem } from '../providers/api-football/schemas';
import { createNameResolver, LALIGA_TEAMS, normalizeName } from './names';

export type RosterPosition = 'GK' | 'DEF' | 'MID' | 'FWD';
export type InjuryStatus = 'fit' | 'doubtful' | 'injured';

const POSITION_OF: Record<string, RosterPosition> = { Goalkeeper: 'GK', Defender: 'DEF', Midfielder: 'MID', Attacker: 'FWD' };

/**
 * An injury counts while its fixture is ahead or at most this far behind: the
 * season's list keeps every injury since August, and one for a match played
 * weeks ago says nothing about the next one.
 */
export const INJURY_CURRENT_WINDOW_MS = 3 * 86_400_000;

/** One API player as kept in the job's result: only what the merge uses. */
export interface ApiPlayerRow {
  id: number;
  name: string;
  photo: string | null;
  /** One per club this season, in the API's order. */
  spells: Array<{
    team: string;
    position: string | null;
    appearances: number | null;
    minutes: number | null;
    rating: number | null;
    goals: number | null;
    assists: number | null;
  }>;
}

export interface ApiInjuryRow {
  playerId: number;
  name: string;
  type: string | null;
  reason: string | null;
  /** ISO-8601 of the fixture the injury is about, or null. */
  fixtureAt: string | null;
}

export interface ApiFixtureRow {
  id: number;
  kickoffAt: string;
  round: string | null;
  homeTeam: string;
  awayTeam: string;
  status: string;
}

export interface UnmatchedPlayer {
  apiFootballId: number;
  name: string;
  team: string | null;
  reason: 'not_on_roster' | 'ambiguous' | 'claimed_twice';
  candidates?: string[];
}

export interface PlayerUpdate {
  id: string;
  apiFootballId: number;
  team: string;
  position: RosterPosition | null;
  minutes: number;
  rating: number | null;
  appearances: number;
  goals: number;
  assists: number;
  injuryStatus: InjuryStatus;
  injuryReason: string | null;
  photoUrl: string | null;
}

export interface RosterRow {
  id: string;
  name: string;
  team: string;
  aliases: string[];
  apiFootballId: number | null;
}

export interface PlayerSyncPlan {
  updates: PlayerUpdate[];
  unmatched: UnmatchedPlayer[];
  /** Roster ids matched by a stored api_football_id (the rest by name). */
  matchedById: number;
}

export function compactPlayers(items: readonly PlayerItem[]): ApiPlayerRow[] {
  return items.map((item) => ({
    id: item.player.id,
    name: item.player.name,
    photo: item.player.photo ?? null,
    spells: item.statistics.map((s) => ({
      team: s.team.name,
      position: s.games?.position ?? null,
      appearances: s.games?.appearences ?? null,
      minutes: s.games?.minutes ?? null,
      rating: s.games?.rating ?? null,
      goals: s.goals?.total ?? null,
      assists: s.goals?.assists ?? null,
    })),
  }));
}

export function compactInjuries(items: readonly InjuryItem[]): ApiInjuryRow[] {
  return items.map((item) => ({
    playerId: item.player.id,
    name: item.player.name,
    type: item.player.type ?? null,
    reason: item.player.reason ?? null,
    fixtureAt: fixtureTime(item.fixture?.date, item.fixture?.timestamp),
  }));
}

export function compactFixtures(items: readonly FixtureItem[]): ApiFixtureRow[] {
  return items.map((item) => ({
    id: item.fixture.id,
    kickoffAt: fixtureTime(item.fixture.date, item.fixture.timestamp) ?? item.fixture.date,
    round: item.league?.round ?? null,
    homeTeam: canonicalTeam(item.teams.home.name),
    awayTeam: canonicalTeam(item.teams.away.name),
    status: item.fixture.status.short,
  }));
}

function fixtureTime(date: string | null | undefined, timestamp: number | null | undefined): string | null {
  if (typeof timestamp === 'number' && Number.isFinite(timestamp)) return new Date(timestamp * 1000).toISOString();
  if (date && !Number.isNaN(Date.parse(date))) return new Date(date).toISOString();
  return null;
}

const CANONICAL_TEAM = new Map<string, string>();
for (const [canonical, ...aliases] of LALIGA_TEAMS) {
  for (const spelling of [canonical, ...aliases]) CANONICAL_TEAM.set(normalizeName(spelling), canonical);
}

/** Our spelling of a club ("Atletico Madrid" -> "Atlético de Madrid"), so the roster keeps one name per club. */
export function canonicalTeam(apiName: string): string {
  return CANONICAL_TEAM.get(normalizeName(apiName)) ?? apiName;
}

export function rosterPosition(apiPosition: string | null | undefined): RosterPosition | null {
  return (apiPosition && POSITION_OF[apiPosition]) || null;
}

/**
 * The club a player plays for now. A mid-season move gives one statistics entry per
 * club; the API's order is not documented, so the last entry with an appearance wins
 * (the order seen in the API's own samples), and the last entry when none has one.
 */
function currentSpell(p: ApiPlayerRow): ApiPlayerRow['spells'][number] | undefined {
  return [...p.spells].reverse().find((s) => (s.appearances ?? 0) > 0) ?? p.spells[p.spells.length - 1];
}

/** Season totals over every club; the rating is the minutes-weighted average of the clubs' ratings. */
function totals(p: ApiPlayerRow) {
  let minutes = 0;
  let appearances = 0;
  let goals = 0;
  let assists = 0;
  let weighted = 0;
  let weight = 0;
  for (const s of p.spells) {
    minutes += s.minutes ?? 0;
    appearances += s.appearances ?? 0;
    goals += s.goals ?? 0;
    assists += s.assists ?? 0;
    if (s.rating !== null) {
      const w = Math.max(1, s.minutes ?? 0);
      weighted += s.rating * w;
      weight += w;
    }
  }
  return { minutes, appearances, goals, assists, rating: weight > 0 ? Math.round((weighted / weight) * 100) / 100 : null };
}

/**
 * Missing Fixture -> injured, Questionable -> doubtful, from the player's injury whose
 * fixture is the nearest still current (ahead, or behind by less than the window).
 */
export function injuryByPlayer(injuries: readonly ApiInjuryRow[], now: Date): Map<number, { status: InjuryStatus; reason: string | null }> {
  const since = now.getTime() - INJURY_CURRENT_WINDOW_MS;
  const best = new Map<number, ApiInjuryRow>();
  for (const injury of injuries) {
    const at = injury.fixtureAt ? Date.parse(injury.fixtureAt) : NaN;
    if (!Number.isFinite(at) || at < since) continue;
    const known = best.get(injury.playerId);
    if (!known || at < Date.parse(known.fixtureAt!)) best.set(injury.playerId, injury);
  }
  const out = new Map<number, { status: InjuryStatus; reason: string | null }>();
  for (const [id, injury] of best) {
    const status: InjuryStatus = /questionable/i.test(injury.type ?? '') ? 'doubtful' : 'injured';
    out.set(id, { status, reason: injury.reason ?? injury.type });
  }
  return out;
}

/** Pure: which roster row each API player is, and what to write there. */
export function planPlayerSync(
  roster: readonly RosterRow[],
  apiPlayers: readonly ApiPlayerRow[],
  injuries: readonly ApiInjuryRow[],
  now: Date,
  /** Aliases an editor taught (`reelflow names alias`, table name_aliases): an API spelling we never guessed. */
  learned: ReadonlyArray<{ mention: string; playerId: string }> = [],
): PlayerSyncPlan {
  const byApiId = new Map(roster.filter((r) => r.apiFootballId !== null).map((r) => [r.apiFootballId!, r.id]));
  // A row already tied to an API id is that person: never hand it to another by name.
  const resolver = createNameResolver(
    roster.filter((r) => r.apiFootballId === null),
    { learned },
  );
  const injured = injuryByPlayer(injuries, now);
  const claims = new Map<string, ApiPlayerRow[]>();
  const unmatched: UnmatchedPlayer[] = [];
  let matchedById = 0;

  // The API may list a player twice across pages when its data shifts while we page.
  const seen = new Set<number>();
  for (const p of apiPlayers) {
    if (seen.has(p.id)) continue;
    seen.add(p.id);
    const team = currentSpell(p)?.team ?? null;
    const known = byApiId.get(p.id);
    if (known) {
      matchedById += 1;
      claims.set(known, [...(claims.get(known) ?? []), p]);
      continue;
    }
    // Try the current club first, then the clubs he left this season.
    const teams = [...new Set([team, ...[...p.spells].reverse().map((s) => s.team)])];
    let candidates: string[] = [];
    let resolved: string | undefined;
    for (const hint of teams) {
      const r = resolver.resolve(p.name, { team: hint });
      if (r.status === 'resolved') {
        resolved = r.playerId;
        break;
      }
      if (r.status === 'ambiguous' && candidates.length === 0) candidates = r.candidates;
    }
    if (resolved) claims.set(resolved, [...(claims.get(resolved) ?? []), p]);
    else
      unmatched.push({
        apiFootballId: p.id,
        name: p.name,
        team,
        reason: candidates.length ? 'ambiguous' : 'not_on_roster',
        ...(candidates.length ? { candidates } : {}),
      });
  }

  const updates: PlayerUpdate[] = [];
  for (const [rosterId, claimants] of claims) {
    if (claimants.length > 1) {
      // Two API players, one roster row: which one is ours is a guess, so neither is taken.
      for (const p of claimants)
        unmatched.push({
          apiFootballId: p.id,
          name: p.name,
          team: currentSpell(p)?.team ?? null,
          reason: 'claimed_twice',
          candidates: [rosterId],
        });
      continue;
    }
    const p = claimants[0]!;
    const spell = currentSpell(p);
    const injury = injured.get(p.id);
    updates.push({
      id: rosterId,
      apiFootballId: p.id,
      team: canonicalTeam(spell?.team ?? roster.find((r) => r.id === rosterId)!.team),
      position: rosterPosition(spell?.position),
      ...totals(p),
      injuryStatus: injury?.status ?? 'fit',
      injuryReason: injury?.reason ?? null,
      photoUrl: p.photo,
    });
  }
  return { updates, unmatched, matchedById };
}

const ROSTER_SQL = `SELECT id, name, team, aliases, api_football_id AS "apiFootballId" FROM players ORDER BY id`;

const LEARNED_SQL = `SELECT mention, player_id AS "playerId" FROM name_aliases`;

const UPDATE_PLAYERS_SQL = `
UPDATE players p SET
  api_football_id = u."apiFootballId", team = u.team, position = coalesce(u.position, p.position),
  minutes = u.minutes, rating = u.rating, appearances = u.appearances, goals = u.goals, assists = u.assists,
  injury_status = u."injuryStatus", injury_reason = u."injuryReason", photo_url = coalesce(u."photoUrl", p.photo_url),
  stats_updated_at = now(), updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS u(id text, "apiFootballId" integer, team text, position text, minutes integer,
  rating real, appearances integer, goals integer, assists integer, "injuryStatus" text, "injuryReason" text, "photoUrl" text)
WHERE p.id = u.id`;

const UPSERT_FIXTURES_SQL = `
INSERT INTO fixtures (id, kickoff_at, round, home_team, away_team, status, updated_at)
SELECT f.id, f."kickoffAt", f.round, f."homeTeam", f."awayTeam", f.status, now()
FROM jsonb_to_recordset($1::jsonb) AS f(id integer, "kickoffAt" timestamptz, round text, "homeTeam" text, "awayTeam" text, status text)
ON CONFLICT (id) DO UPDATE SET kickoff_at = EXCLUDED.kickoff_at, round = EXCLUDED.round, home_team = EXCLUDED.home_team,
  away_team = EXCLUDED.away_team, status = EXCLUDED.status, updated_at = now()`;

const FINISH_RUN_SQL = `
UPDATE player_sync_runs SET finished_at = now(), requests = $2, players_read = $3, matched = $4, unmatched = $5::jsonb, error = NULL
WHERE id = $1`;

export interface PlayerSyncResult {
  playersRead: number;
  matched: number;
  matchedById: number;
  unmatched: UnmatchedPlayer[];
  injured: number;
  doubtful: number;
  fixtures: number;
}

/**
 * Plans against the roster as it is inside the transaction and applies all of it or
 * nothing (like a roster file): a failed merge leaves yesterday's data whole.
 */
export async function applyPlayerSync(
  pool: pg.Pool,
  input: {
    syncRunId: string;
    requests: number;
    players: readonly ApiPlayerRow[];
    injuries: readonly ApiInjuryRow[];
    fixtures: readonly ApiFixtureRow[];
    now?: Date;
  },
): Promise<PlayerSyncResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Two syncs merging at once would plan against each other's half-written roster.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('reelflow:player_sync'))`);
    const { rows: roster } = await client.query<RosterRow>(ROSTER_SQL);
    const { rows: learned } = await client.query<{ mention: string; playerId: string }>(LEARNED_SQL);
    const plan = planPlayerSync(roster, input.players, input.injuries, input.now ?? new Date(), learned);
    await client.query(UPDATE_PLAYERS_SQL, [JSON.stringify(plan.updates)]);
    await client.query(UPSERT_FIXTURES_SQL, [JSON.stringify(input.fixtures)]);
    await client.query(FINISH_RUN_SQL, [
      input.syncRunId,
      input.requests,
      input.players.length,
      plan.updates.length,
      JSON.stringify(plan.unmatched),
    ]);
    await client.query('COMMIT');
    return {
      playersRead: input.players.length,
      matched: plan.updates.length,
      matchedById: plan.matchedById,
      unmatched: plan.unmatched,
      injured: plan.updates.filter((u) => u.injuryStatus === 'injured').length,
      doubtful: plan.updates.filter((u) => u.injuryStatus === 'doubtful').length,
      fixtures: input.fixtures.length,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const QUOTA_SPENT = 'daily request quota is spent';
const RESETS_AROUND = /resets around (\d{4}-\d\d-\d\dT[\d:.]+Z)/;

/**
 * Until when syncs are parked: the last finished run met a spent daily quota (its
 * error says so, with the reset it expects) and that reset is still ahead. A sync
 * started meanwhile fails at once without a request: a retry loop, a schedule
 * trigger or an impatient operator would only be refused by the API again.
 */
export async function quotaParkedUntil(pool: pg.Pool, now: Date): Promise<Date | null> {
  const { rows } = await pool.query<{ error: string | null }>(
    'SELECT error FROM player_sync_runs WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1',
  );
  const error = rows[0]?.error;
  if (!error?.includes(QUOTA_SPENT)) return null;
  const reset = RESETS_AROUND.exec(error)?.[1];
  const at = reset ? new Date(reset) : null;
  return at && at.getTime() > now.getTime() ? at : null;
}

/** The parked run's error: it keeps the words quotaParkedUntil reads, so the park holds until the reset. */
export function parkedMessage(until: Date): string {
  return (
    `api-football: the ${QUOTA_SPENT} (an earlier sync was refused); this sync made no request and ` +
    `resets around ${until.toISOString()} (API_FOOTBALL_QUOTA_RESET_UTC). \`reelflow players sync --force\` calls anyway`
  );
}

/** A sync run's row, created before the first request so a failed run is on record too. */
export async function startSyncRun(pool: pg.Pool, syncRunId: string, season: number): Promise<void> {
  await pool.query('INSERT INTO player_sync_runs (id, season) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [syncRunId, season]);
}

export async function failSyncRun(pool: pg.Pool, syncRunId: string, error: string, requests: number): Promise<void> {
  await pool.query('UPDATE player_sync_runs SET finished_at = now(), error = $2, requests = $3 WHERE id = $1 AND finished_at IS NULL', [
    syncRunId,
    error,
    requests,
  ]);
}

export interface SyncRunRow {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  season: number;
  requests: number;
  playersRead: number;
  matched: number;
  unmatched: UnmatchedPlayer[];
  error: string | null;
}

const RUN_COLUMNS = `id, started_at AS "startedAt", finished_at AS "finishedAt", season, requests, players_read AS "playersRead",
  matched, unmatched, error`;

/** The newest run, and the newest one that merged (they differ when the last run failed). */
export async function latestSyncRuns(pool: pg.Pool): Promise<{ latest: SyncRunRow | null; lastMerged: SyncRunRow | null }> {
  const latest = await pool.query<SyncRunRow>(`SELECT ${RUN_COLUMNS} FROM player_sync_runs ORDER BY started_at DESC LIMIT 1`);
  const merged = await pool.query<SyncRunRow>(
    `SELECT ${RUN_COLUMNS} FROM player_sync_runs WHERE finished_at IS NOT NULL AND error IS NULL ORDER BY started_at DESC LIMIT 1`,
  );
  return { latest: latest.rows[0] ?? null, lastMerged: merged.rows[0] ?? null };
}
