/**
 * Local API-Football v3: /players (20 a page, paging.total), /injuries and
 * /fixtures?next over the La Liga of api-football-data.ts, with the real
 * API's habits: errors on HTTP 200 in an `errors` object (errors.token for
 * a bad key, errors.requests once the day's quota is spent), HTTP 429 with
 * errors.rateLimit past the per-minute cap, `{message}` bodies on 499/500,
 * and the four rate-limit headers on every answer.
 *
 * The day is the UTC day, or every dayWindowMs when time is compressed. Knobs: GET/POST /__sim/quotas (also
 * /__sim/api-football/quota) {perDay, perMinute, windowMs, dayWindowMs, usedToday, validKey}.
 *
 * Its state is plain JSON (counters and knobs), so it can be saved and read back.
 */
import { z } from 'zod';
import { currentSeason } from '../providers/api-football/client';
import { SIM_INJURIES, SIM_PLAYERS, SIM_TEAMS, type SimPlayer, type SimTeamKey } from './api-football-data';
import { SimHttpError, SimulatorServer, type SimErrorKind, type SimReply, type SimRequest, type SimulatorOptions } from './server';

/** The API's page size for /players. */
export const API_FOOTBALL_PAGE_SIZE = 20;

export interface ApiFootballSimState {
  /** The only key accepted; null accepts any non-empty key. */
  validKey: string | null;
  /** Requests allowed per window before HTTP 429 (the free plan: 10 a minute). */
  perMinute: number;
  /** Length of the per-minute window (tests shorten it). */
  windowMs: number;
  /** Requests allowed per day before errors.requests (the free plan: 100). */
  perDay: number;
  /** Length of the daily quota's period in ms (time compression); null: the UTC day. */
  dayWindowMs: number | null;
  /** Requests counted on `day` (UTC date, or the compressed period); a new day starts from zero. */
  usedToday: number;
  day: string;
  /** Epoch ms of the requests counted in the current window. */
  windowStarts: number[];
  /** Every answered API request, in order (path, query), for tests. */
  log: Array<{ path: string; query: Record<string, string>; at: number; status: number; error?: string }>;
}

function initialState(): ApiFootballSimState {
  return {
    validKey: null,
    perMinute: 10,
    windowMs: 60_000,
    perDay: 100,
    dayWindowMs: null,
    usedToday: 0,
    day: dayKey(Date.now(), null),
    windowStarts: [],
    log: [],
  };
}

const DAY_MS = 86_400_000;

const quotaPatch = z
  .object({
    validKey: z.string().min(1).nullable(),
    perMinute: z.number().int().min(0),
    windowMs: z.number().int().min(1),
    perDay: z.number().int().min(0),
    dayWindowMs: z.number().int().min(1).nullable(),
    usedToday: z.number().int().min(0),
  })
  .partial()
  .strict();

export class ApiFootballSimulator extends SimulatorServer {
  state: ApiFootballSimState = initialState();

  constructor(options: SimulatorOptions = {}) {
    super('api_football', options);
    // POST /__sim/api-football/quota {perDay, perMinute, windowMs, dayWindowMs, usedToday, validKey}: the quota knobs
    // over HTTP, for a simulator in another process (npm run simulators, compose); GET reads them. /__sim/quotas too.
    this.extend({
      name: 'api_football_quota',
      routes: () => [],
      controlRoutes: () => [
        { method: 'GET', pattern: /^\/__sim\/api-football\/quota$/, handler: () => ({ status: 200, body: this.knobs() }) },
        {
          method: 'POST',
          pattern: /^\/__sim\/api-football\/quota$/,
          handler: (req) => {
            this.configure(quotaPatch.parse(req.json()));
            return { status: 200, body: this.knobs() };
          },
        },
      ],
      isPublic: () => false,
      reset: () => undefined,
      toJSON: () => undefined,
      load: () => undefined,
    });
    this.route('GET', /^\/players\/?$/, (req) => this.answer(req, () => this.players(req)));
    this.route('GET', /^\/injuries\/?$/, (req) => this.answer(req, () => this.injuries(req)));
    this.route('GET', /^\/fixtures\/?$/, (req) => this.answer(req, () => this.fixtures(req)));
  }

  /** Changes the quota knobs (perDay, perMinute, windowMs, dayWindowMs, validKey, usedToday). */
  configure(patch: Partial<Omit<ApiFootballSimState, 'log' | 'windowStarts'>>): void {
    this.state = { ...this.state, ...patch };
  }

  protected override quotaKnobs(): Omit<ApiFootballSimState, 'log' | 'windowStarts'> {
    return this.knobs();
  }

  protected override setQuotaKnobs(patch: unknown): Omit<ApiFootballSimState, 'log' | 'windowStarts'> {
    this.configure(quotaPatch.parse(patch));
    return this.knobs();
  }

  private knobs(): Omit<ApiFootballSimState, 'log' | 'windowStarts'> {
    const { log: _log, windowStarts: _starts, ...knobs } = this.state;
    return knobs;
  }

  protected override onReset(): void {
    this.state = initialState();
  }

  /** The request log stays in memory: it is for the test that made the requests. */
  protected override saveState(): Omit<ApiFootballSimState, 'log'> {
    const { log: _log, ...rest } = this.state;
    return rest;
  }

  protected override loadState(state: Partial<ApiFootballSimState>): void {
    this.state = { ...initialState(), ...state, log: [] };
  }

  /** The key travels in x-apisports-key; a wrong one is errorReply('unauthorized'), i.e. errors.token on HTTP 200. */
  protected override isAuthorized(req: SimRequest): boolean {
    const key = req.header('x-apisports-key')?.trim();
    if (!key) return false;
    return this.state.validKey === null || key === this.state.validKey;
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const headers = this.rateHeaders();
    switch (kind) {
      case 'unauthorized':
        return {
          status: 200,
          headers,
          body: envelope('', [], {
            token:
              'Error/Missing application key. Go to https://www.api-football.com/documentation-v3 ' +
              'to learn how to get your API application key.',
          }),
        };
      case 'rate_limited':
        return {
          status: 429,
          headers,
          body: envelope('', [], {
            rateLimit: 'Too many requests. You have exceeded the limit of requests per minute of your subscription.',
          }),
        };
      case 'invalid': {
        const field = typeof extra.field === 'string' ? extra.field : 'request';
        return { status: 200, headers, body: envelope('', [], { [field]: message }) };
      }
      case 'not_found':
        return { status: 200, headers, body: envelope('', [], { endpoint: 'This endpoint do not exist.' }) };
      case 'unavailable':
        return { status: 499, headers, body: { message: 'Time Out' } };
      case 'server_error':
        return { status: 500, headers, body: { message } };
    }
  }

  /** Per-minute cap (429), then the daily quota (errors.requests on 200), then the endpoint. */
  private answer(req: SimRequest, body: () => unknown): SimReply {
    const now = Date.now();
    const s = this.state;
    s.windowStarts = s.windowStarts.filter((t) => t > now - s.windowMs);
    if (s.day !== dayKey(now, s.dayWindowMs)) {
      s.day = dayKey(now, s.dayWindowMs);
      s.usedToday = 0;
    }
    const query = Object.fromEntries(req.url.searchParams.entries());
    const logged = (reply: SimReply, error?: string): SimReply => {
      s.log.push({ path: req.url.pathname, query, at: now, status: reply.status, ...(error ? { error } : {}) });
      return reply;
    };
    if (s.windowStarts.length >= s.perMinute) return logged(this.errorReply('rate_limited', '', {}), 'rateLimit');
    s.windowStarts.push(now);
    if (s.usedToday >= s.perDay) {
      this.recordQuotaRefusal();
      return logged(
        {
          status: 200,
          headers: this.rateHeaders(),
          body: envelope(req.url.pathname.replace(/^\//, ''), query, {
            requests: 'You have reached the request limit for the day, Go to https://dashboard.api-football.com to upgrade your plan.',
          }),
        },
        'requests',
      );
    }
    s.usedToday += 1;
    try {
      return logged({ status: 200, headers: this.rateHeaders(), body: body() });
    } catch (err) {
      if (err instanceof SimHttpError) return logged(this.errorReply(err.kind, err.message, err.extra), err.message);
      throw err;
    }
  }

  private rateHeaders(): Record<string, string> {
    const s = this.state;
    return {
      'x-ratelimit-requests-limit': String(s.perDay),
      'x-ratelimit-requests-remaining': String(Math.max(0, s.perDay - s.usedToday)),
      'X-RateLimit-Limit': String(s.perMinute),
      'X-RateLimit-Remaining': String(Math.max(0, s.perMinute - s.windowStarts.length)),
    };
  }

  private players(req: SimRequest): unknown {
    const q = req.url.searchParams;
    const league = requiredInt(q, 'league');
    const season = requiredInt(q, 'season');
    const page = q.has('page') ? requiredInt(q, 'page') : 1;
    // Seasons before 2021 have no data here (an empty answer, as for a league the API does not cover).
    const all = league === 140 && season >= 2021 ? SIM_PLAYERS : [];
    const total = Math.max(1, Math.ceil(all.length / API_FOOTBALL_PAGE_SIZE));
    if (page < 1 || page > total)
      throw new SimHttpError('invalid', `The Page field must be between 1 and ${total}.`, undefined, { field: 'page' });
    const items = all.slice((page - 1) * API_FOOTBALL_PAGE_SIZE, page * API_FOOTBALL_PAGE_SIZE).map((p) => playerItem(p, season));
    return {
      ...envelope('players', Object.fromEntries(q.entries()), []),
      results: items.length,
      paging: { current: page, total },
      response: items,
    };
  }

  private injuries(req: SimRequest): unknown {
    const q = req.url.searchParams;
    const league = requiredInt(q, 'league');
    const season = requiredInt(q, 'season');
    const now = Date.now();
    const byId = new Map(SIM_PLAYERS.map((p) => [p.id, p]));
    const items =
      league !== 140
        ? []
        : SIM_INJURIES.map((injury, i) => {
            const player = byId.get(injury.playerId)!;
            const [teamId, teamName] = SIM_TEAMS[currentTeam(player)];
            const at = new Date(Math.floor((now + injury.dayOffset * DAY_MS) / 3_600_000) * 3_600_000);
            return {
              player: { id: player.id, name: player.name, photo: photoUrl(player.id), type: injury.type, reason: injury.reason },
              team: { id: teamId, name: teamName, logo: `https://media.api-sports.io/football/teams/${teamId}.png` },
              fixture: {
                id: 1_300_000 + i,
                timezone: 'UTC',
                date: at.toISOString().replace('.000Z', '+00:00'),
                timestamp: at.getTime() / 1000,
              },
              league: { id: 140, season, name: 'La Liga', country: 'Spain' },
            };
          });
    return {
      ...envelope('injuries', Object.fromEntries(q.entries()), []),
      results: items.length,
      paging: { current: 1, total: 1 },
      response: items,
    };
  }

  private fixtures(req: SimRequest): unknown {
    const q = req.url.searchParams;
    const league = requiredInt(q, 'league');
    const next = requiredInt(q, 'next');
    if (next < 1 || next > 99)
      throw new SimHttpError('invalid', 'The Next field must contain 1 to 2 digits.', undefined, { field: 'next' });
    const now = Date.now();
    const season = q.has('season') ? requiredInt(q, 'season') : currentSeason(new Date(now));
    const keys = Object.keys(SIM_TEAMS) as SimTeamKey[];
    const items =
      league !== 140
        ? []
        : Array.from({ length: next }, (_, i) => {
            // Ten matches a round, a round every 7 days, the first tomorrow at 18:00 UTC.
            const round = Math.floor(i / 10);
            const slot = i % 10;
            const home = keys[(slot * 2 + round) % keys.length]!;
            const away = keys[(slot * 2 + 1 + round * 3) % keys.length]!;
            const day = new Date(now + (1 + round * 7) * DAY_MS);
            const kickoff = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 16 + (slot % 5), 0);
            return {
              fixture: {
                id: 1_400_000 + round * 10 + slot,
                referee: null,
                timezone: 'UTC',
                date: new Date(kickoff).toISOString().replace('.000Z', '+00:00'),
                timestamp: kickoff / 1000,
                venue: { id: null, name: null, city: null },
                status: { long: 'Not Started', short: 'NS', elapsed: null },
              },
              league: { id: 140, name: 'La Liga', country: 'Spain', season, round: `Regular Season - ${14 + round}` },
              teams: {
                home: { id: SIM_TEAMS[home][0], name: SIM_TEAMS[home][1], logo: null, winner: null },
                away: { id: SIM_TEAMS[away][0], name: SIM_TEAMS[away][1], logo: null, winner: null },
              },
              goals: { home: null, away: null },
            };
          });
    return {
      ...envelope('fixtures', Object.fromEntries(q.entries()), []),
      results: items.length,
      paging: { current: 1, total: 1 },
      response: items,
    };
  }
}

/** The quota's day: the UTC date, or the number of the compressed period. */
function dayKey(ms: number, dayWindowMs: number | null): string {
  return dayWindowMs === null ? new Date(ms).toISOString().slice(0, 10) : `w${dayWindowMs}:${Math.floor(ms / dayWindowMs)}`;
}

function envelope(get: string, parameters: unknown, errors: Record<string, string> | []): Record<string, unknown> {
  return { get, parameters, errors, results: 0, paging: { current: 1, total: 1 }, response: [] };
}

function requiredInt(q: URLSearchParams, name: string): number {
  const raw = q.get(name);
  if (raw === null || raw === '') throw new SimHttpError('invalid', `The ${name} field is required.`, undefined, { field: name });
  if (!/^\d+$/.test(raw)) throw new SimHttpError('invalid', `The ${name} field must contain an integer.`, undefined, { field: name });
  return Number(raw);
}

function photoUrl(id: number): string {
  return `https://media.api-sports.io/football/players/${id}.png`;
}

/** The club a player plays for now: the last one the API lists. */
function currentTeam(p: SimPlayer): SimTeamKey {
  return p.spells[p.spells.length - 1]!.team;
}

function playerItem(p: SimPlayer, season: number): unknown {
  return {
    player: {
      id: p.id,
      name: p.name,
      firstname: p.firstname,
      lastname: p.lastname,
      age: 20 + (p.id % 15),
      nationality: null,
      injured: false,
      photo: photoUrl(p.id),
    },
    statistics: p.spells.map((s) => {
      const [teamId, teamName] = SIM_TEAMS[s.team];
      return {
        team: { id: teamId, name: teamName, logo: `https://media.api-sports.io/football/teams/${teamId}.png` },
        league: { id: 140, name: 'La Liga', country: 'Spain', season },
        games: {
          appearences: s.appearances,
          lineups: Math.max(0, s.appearances - 1),
          minutes: s.minutes,
          number: null,
          position: p.position,
          rating: s.rating === null ? null : s.rating.toFixed(6),
          captain: false,
        },
        substitutes: { in: 1, out: 2, bench: 3 },
        goals: { total: s.goals, conceded: p.position === 'Goalkeeper' ? s.appearances : null, assists: s.assists, saves: null },
        cards: { yellow: p.id % 4, yellowred: 0, red: 0 },
      };
    }),
  };
}
