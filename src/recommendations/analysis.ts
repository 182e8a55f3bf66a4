/**
 * What GPT must say about a competitor video and how we ask it. The
 * simulator's stand-in for the model lives in src/simulators/analysis-stand-in.ts.
 *
 * The zod schema is the contract; the JSON Schema beside it is what OpenAI's
 * strict structured-output mode accepts (every property required, nullable
 * as a type union, no additional properties). Keep the two in step.
 */
import { z } from 'zod';
import { UNTRUSTED_RULE, untrustedBlock, untrustedLine, untrustedText } from '../content/untrusted';
import type { TextIntelligence } from '../providers/types';
import { MalformedAnalysisError } from '../shared/errors';
import { ANALYSIS_CHUNK_CHARS, splitTranscript } from '../shared/transcript-pieces';

export const COMPETITOR_ANALYSIS_SCHEMA_NAME = 'competitor_analysis';

export const STANCES = ['strong_buy', 'buy', 'hold', 'sell', 'strong_sell'] as const;
export type Stance = (typeof STANCES)[number];
const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;

/** La Liga has 38 rounds. */
export const MAX_ROUND = 38;

const claimSchema = z
  .object({
    text: z.string().trim().min(1).max(1000),
    stance: z.enum(STANCES),
    round: z.number().int().min(1).max(MAX_ROUND).nullable(),
  })
  .strict();

const analysedPlayerSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    team: z.string().trim().min(1).max(80).nullable(),
    claims: z.array(claimSchema).max(50),
  })
  .strict();

export const competitorAnalysisSchema = z
  .object({
    topic: z.string().trim().min(1).max(200),
    sentiment: z.enum(SENTIMENTS),
    viralPotential: z.number().min(0).max(10),
    players: z.array(analysedPlayerSchema).max(60),
  })
  .strict();

export type CompetitorAnalysis = z.infer<typeof competitorAnalysisSchema>;

export const competitorAnalysisJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'sentiment', 'viralPotential', 'players'],
  properties: {
    topic: { type: 'string', description: 'Tema principal del vídeo en pocas palabras.' },
    sentiment: { type: 'string', enum: [...SENTIMENTS] },
    viralPotential: { type: 'number', minimum: 0, maximum: 10, description: '0 = nadie lo verá, 10 = viral seguro.' },
    players: {
      type: 'array',
      maxItems: 60,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'team', 'claims'],
        properties: {
          name: { type: 'string', description: 'El nombre tal y como aparece en la transcripción.' },
          team: { type: ['string', 'null'], description: 'Equipo si el vídeo lo dice; null si no.' },
          claims: {
            type: 'array',
            maxItems: 50,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['text', 'stance', 'round'],
              properties: {
                text: { type: 'string', description: 'La frase del vídeo que contiene la afirmación.' },
                stance: { type: 'string', enum: [...STANCES] },
                round: { type: ['integer', 'null'], minimum: 1, maximum: MAX_ROUND, description: 'Jornada, si se menciona.' },
              },
            },
          },
        },
      },
    },
  },
} as const;

/**
 * The analysis of a whole transcript (analyseLongTranscript): the model's answer, or the merge of its pieces' answers
 * with what the merge left out to stay within the schema's caps, and why (counted, never dropped silently).
 */
const mergedAnalysisSchema = competitorAnalysisSchema.extend({
  skipped: z.array(z.object({ what: z.string(), count: z.number().int(), reason: z.string() })).optional(),
});
export type MergedAnalysis = z.infer<typeof mergedAnalysisSchema>;

/**
 * What the analysis column holds: the model's validated answer, each player
 * annotated with the roster id it resolved to (null when ambiguous or
 * unknown), so the engine reads claims per player without re-resolving.
 */
export const storedAnalysisSchema = mergedAnalysisSchema.extend({
  players: z.array(analysedPlayerSchema.extend({ playerId: z.string().nullable() })),
});
export type StoredAnalysis = z.infer<typeof storedAnalysisSchema>;

/** One entry of ambiguous_names: a name we did not turn into one id, for a human to settle. */
export const flaggedNameSchema = z.object({
  name: z.string(),
  team: z.string().nullable(),
  reason: z.enum(['ambiguous', 'unknown']),
  /** Roster ids it could be; empty when nobody on the roster fits. */
  candidates: z.array(z.string()),
});
export type FlaggedName = z.infer<typeof flaggedNameSchema>;

/**
 * For analyses that did not come straight from the validating client (activity payloads, stored rows). A merge's
 * `skipped` is part of it: refused as an unknown key, every video whose merge cut claims failed its save after its
 * analysis was paid for, and teaching an alias skipped it as unreadable.
 */
export function parseCompetitorAnalysis(value: unknown): MergedAnalysis {
  const result = mergedAnalysisSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new MalformedAnalysisError(`analysis field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return result.data;
}

export interface VideoForAnalysis {
  channel: string;
  title: string;
  views: number;
  publishedAt?: Date | null;
  transcript: string;
}

const SYSTEM_PROMPT = `Eres analista de LaLiga Fantasy para un estudio de contenido en español.
Recibes la transcripción automática (Whisper) de un vídeo de un canal competidor.
Devuelve JSON con:
- topic: el tema principal en pocas palabras.
- sentiment: positive, neutral o negative (tono general hacia los fichajes que recomienda).
- viralPotential: 0 a 10, cuánto puede viralizarse (visualizaciones, titular, tono).
- players: cada futbolista mencionado, con el nombre copiado tal como aparece (aunque esté mal escrito:
  otro sistema lo normaliza), su equipo solo si el vídeo lo dice (si no, null) y sus afirmaciones.
Cada afirmación (claims) cita la frase y su postura (stance):
  strong_buy = "regalado", "chollazo", "fichadlo ya"; buy = "chollo", "fichad", "buena compra";
  hold = "mantened", "paciencia"; sell = "vended", "no fichéis"; strong_sell = "trampa", "ni regalado", "huid".
round es la jornada si se menciona, si no null.
No inventes jugadores ni afirmaciones que no estén en la transcripción. Entrenadores y clubes no son jugadores.
El vídeo puede estar en cualquier idioma (inglés, portugués, catalán...): extrae igual sus jugadores y posturas
("must buy", "a steal" = strong_buy; "buy" = buy; "keep" = hold; "sell", "avoid" = sell; "trap" = strong_sell).
Si un vídeo menciona muchos jugadores, inclúyelos todos; si un jugador tiene muchas afirmaciones, quédate con las más claras.
${UNTRUSTED_RULE}`;

/** System + user messages for the analysis call. */
export function buildAnalysisPrompt(video: VideoForAnalysis): { system: string; user: string } {
  // The channel, title and transcript are the competitor's words: one third-party block they cannot close.
  const transcript = untrustedText(video.transcript).replace(/<\/?transcript>/gi, '');
  const user = [
    `Visualizaciones: ${Math.max(0, Math.round(video.views))}`,
    `Publicado: ${video.publishedAt ? video.publishedAt.toISOString() : 'desconocido'}`,
    untrustedBlock([
      `Canal: ${untrustedLine(video.channel)}`,
      `Título: ${untrustedLine(video.title)}`,
      '<transcript>',
      transcript,
      '</transcript>',
    ]),
  ].join('\n');
  return { system: SYSTEM_PROMPT, user };
}

/** The one call the activity makes: the client validates the answer and throws ProviderError('malformed') otherwise. */
export function analyseTranscript(openai: TextIntelligence, video: VideoForAnalysis): Promise<CompetitorAnalysis> {
  return openai.generateJson({
    name: COMPETITOR_ANALYSIS_SCHEMA_NAME,
    schema: competitorAnalysisSchema,
    jsonSchema: competitorAnalysisJsonSchema,
    ...buildAnalysisPrompt(video),
  });
}

/** The schema's caps (per answer): what a merged analysis keeps per player and in all. */
const MAX_CLAIMS_PER_PLAYER = 50;
const MAX_PLAYERS = 60;

/**
 * The pieces of a long analysis already paid for, and where each new answer is kept as soon as it comes: an attempt
 * that fails on piece 3 (a refusal, a truncated answer, a 5xx) leaves pieces 1-2 for the next attempt, which asks
 * only for the rest. `call` sends one piece's request (the gate's spacing: each piece is a request to the provider).
 */
export interface AnalysisPieces {
  /** The answer an earlier attempt was paid for on this piece's text (read back from the database: checked here). */
  kept(piece: string): unknown;
  keep(piece: string, answer: CompetitorAnalysis): Promise<void>;
  call<R>(request: () => Promise<R>): Promise<R>;
}

/**
 * The analysis of a transcript of any length: short ones in one call, long ones
 * piece by piece (each piece a call) merged by player name. What a merge leaves
 * out to stay within the schema's caps is counted in `skipped`.
 */
export async function analyseLongTranscript(
  openai: TextIntelligence,
  video: VideoForAnalysis,
  opts: { maxChars?: number; pieces?: AnalysisPieces } = {},
): Promise<MergedAnalysis> {
  const pieces = splitTranscript(video.transcript, opts.maxChars ?? ANALYSIS_CHUNK_CHARS);
  const paid = opts.pieces;
  const call = <R>(request: () => Promise<R>) => (paid ? paid.call(request) : request());
  if (pieces.length === 1) return call(() => analyseTranscript(openai, video));
  const answers: CompetitorAnalysis[] = [];
  for (const transcript of pieces) {
    // One that no longer parses is asked for again.
    const kept = competitorAnalysisSchema.safeParse(paid?.kept(transcript));
    if (kept.success) {
      answers.push(kept.data);
      continue;
    }
    const answer = await call(() => analyseTranscript(openai, { ...video, transcript }));
    await paid?.keep(transcript, answer);
    answers.push(answer);
  }
  return mergeAnalyses(answers);
}

export function mergeAnalyses(answers: readonly CompetitorAnalysis[]): MergedAnalysis {
  const byName = new Map<string, CompetitorAnalysis['players'][number]>();
  for (const answer of answers) {
    for (const p of answer.players) {
      const key = p.name
        .normalize('NFD')
        .replace(/\p{M}+/gu, '')
        .toLowerCase()
        .trim();
      const seen = byName.get(key);
      if (seen) {
        seen.claims.push(...p.claims);
        seen.team ??= p.team;
      } else byName.set(key, { name: p.name, team: p.team, claims: [...p.claims] });
    }
  }
  const skipped: NonNullable<MergedAnalysis['skipped']> = [];
  const players = [...byName.values()];
  let claimsCut = 0;
  for (const p of players) {
    if (p.claims.length > MAX_CLAIMS_PER_PLAYER) {
      claimsCut += p.claims.length - MAX_CLAIMS_PER_PLAYER;
      p.claims = p.claims.slice(0, MAX_CLAIMS_PER_PLAYER);
    }
  }
  if (claimsCut) skipped.push({ what: 'claims', count: claimsCut, reason: `over ${MAX_CLAIMS_PER_PLAYER} claims for one player` });
  // Keep the players with most claims when there are more than an analysis holds.
  players.sort((a, b) => b.claims.length - a.claims.length);
  if (players.length > MAX_PLAYERS) {
    skipped.push({ what: 'players', count: players.length - MAX_PLAYERS, reason: `over ${MAX_PLAYERS} players in one video` });
    players.length = MAX_PLAYERS;
  }
  const sentiments = answers.map((a) => a.sentiment);
  const sentiment = (['positive', 'negative', 'neutral'] as const).reduce((best, s) =>
    sentiments.filter((x) => x === s).length > sentiments.filter((x) => x === best).length ? s : best,
  );
  return {
    topic: answers[0]!.topic,
    sentiment,
    viralPotential: Math.max(...answers.map((a) => a.viralPotential)),
    players,
    ...(skipped.length ? { skipped } : {}),
  };
}
