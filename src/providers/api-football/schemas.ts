/**
 * API-Football v3 shapes (api-football.com/documentation-v3; ../shared/providers-2.md §7).
 * Every answer is `{get, parameters, errors, results, paging:{current,total}, response}`,
 * where `errors` is `[]` when fine and an object keyed by cause when not, on HTTP 200.
 * Counters are often null and the API spells `appearences`; the injury and fixture
 * item shapes are only partly confirmed, so everything we do not use stays optional.
 * Also parsed by the simulator, so both sides agree on one shape.
 */
import { z } from 'zod';

/** `[]` (fine) or `{ token: "...", requests: "...", <param>: "..." }`; some answers send `{}` when fine. */
export const apiErrorsSchema = z.union([z.array(z.unknown()), z.record(z.unknown())]).transform((errors): Record<string, string> => {
  if (Array.isArray(errors)) return Object.fromEntries(errors.map((e, i) => [String(i), typeof e === 'string' ? e : JSON.stringify(e)]));
  return Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
});

export const pagingSchema = z.object({ current: z.number().int(), total: z.number().int() });

/** The envelope, with `response` left to the endpoint's item schema. */
export function envelopeSchema<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    get: z.string().optional(),
    parameters: z.unknown().optional(),
    errors: apiErrorsSchema.default([]),
    results: z.number().int().optional(),
    paging: pagingSchema.default({ current: 1, total: 1 }),
    response: z.array(item).default([]),
  });
}

/** Only the error part, read first so an error answer's odd `response` never fails the parse. */
export const errorEnvelopeSchema = z.object({ errors: apiErrorsSchema.default([]) }).passthrough();

/** A string or number counter, or null ("rating": "7.250000"). */
const looseNumber = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v) => {
    if (v === null || v === undefined || v === '') return null;
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isFinite(n) ? n : null;
  });

export const API_POSITIONS = ['Goalkeeper', 'Defender', 'Midfielder', 'Attacker'] as const;

export const playerStatisticsSchema = z.object({
  team: z.object({ id: z.number().int(), name: z.string(), logo: z.string().nullish() }),
  league: z.object({ id: z.number().int().nullish(), name: z.string().nullish(), season: z.number().int().nullish() }).partial().nullish(),
  games: z
    .object({
      /** Sic: the API's spelling. */
      appearences: looseNumber,
      lineups: looseNumber,
      minutes: looseNumber,
      position: z.string().nullish(),
      rating: looseNumber,
      captain: z.boolean().nullish(),
    })
    .partial()
    .nullish(),
  goals: z.object({ total: looseNumber, assists: looseNumber, conceded: looseNumber, saves: looseNumber }).partial().nullish(),
});
export type PlayerStatistics = z.infer<typeof playerStatisticsSchema>;

export const playerItemSchema = z.object({
  player: z.object({
    id: z.number().int(),
    name: z.string().min(1),
    firstname: z.string().nullish(),
    lastname: z.string().nullish(),
    age: z.number().int().nullish(),
    nationality: z.string().nullish(),
    injured: z.boolean().nullish(),
    photo: z.string().nullish(),
  }),
  /** One entry per team the player played for in the league this season (a mid-season move gives two). */
  statistics: z.array(playerStatisticsSchema).default([]),
});
export type PlayerItem = z.infer<typeof playerItemSchema>;

/** "Missing Fixture" (will not play) or "Questionable"; other texts are kept as they come. */
export const injuryItemSchema = z.object({
  player: z.object({
    id: z.number().int(),
    name: z.string(),
    photo: z.string().nullish(),
    type: z.string().nullish(),
    reason: z.string().nullish(),
  }),
  team: z.object({ id: z.number().int().nullish(), name: z.string().nullish() }).partial().nullish(),
  fixture: z.object({ id: z.number().int().nullish(), date: z.string().nullish(), timestamp: z.number().nullish() }).partial().nullish(),
});
export type InjuryItem = z.infer<typeof injuryItemSchema>;

export const fixtureItemSchema = z.object({
  fixture: z.object({
    id: z.number().int(),
    date: z.string(),
    timestamp: z.number().nullish(),
    status: z.object({ long: z.string().nullish(), short: z.string(), elapsed: z.number().nullish() }),
  }),
  league: z.object({ id: z.number().int().nullish(), season: z.number().int().nullish(), round: z.string().nullish() }).partial().nullish(),
  teams: z.object({
    home: z.object({ id: z.number().int().nullish(), name: z.string() }),
    away: z.object({ id: z.number().int().nullish(), name: z.string() }),
  }),
});
export type FixtureItem = z.infer<typeof fixtureItemSchema>;

export const playersEnvelopeSchema = envelopeSchema(playerItemSchema);
export const injuriesEnvelopeSchema = envelopeSchema(injuryItemSchema);
export const fixturesEnvelopeSchema = envelopeSchema(fixtureItemSchema);

/** 499 / 500 answers carry `{ message }` instead of the envelope (third-party SDK notes). */
export const messageBodySchema = z.object({ message: z.string() });
