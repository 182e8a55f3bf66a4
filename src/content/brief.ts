/**
 * The video brief GPT writes for a recommendation: what VEO3 renders and what
 * the posts say. Validated with zod; the JSON Schema is what OpenAI's strict
 * structured output enforces on its side.
 */
import { z } from 'zod';
import { CARD_MAX_LINE_CHARS, CARD_MAX_LINES, MAX_SEGMENTS, maxSpokenWords, type ReelSettings } from '../config/reel';
import { UNTRUSTED_RULE, untrustedBlock, untrustedLine, untrustedText } from './untrusted';

/**
 * One segment of a reel: one 8-second VEO3 render. Bounds here only keep a payload sane; whether
 * the script fits the reel (segment count, words per clip, card size) is scriptProblems' call
 * (src/content/script.ts), with messages that name the segment.
 */
export const scriptSegmentSchema = z.object({
  /** English: what VEO3 shows. */
  visualPrompt: z.string().max(1500),
  /** Spanish: what VEO3's audio says in this segment (and the subtitle). */
  spokenLine: z.string().max(600),
  /** Our figures on a data card (price, points per million, form, better options), one entry a line. */
  onScreenText: z.array(z.string().max(200)).max(10),
});
export type ScriptSegment = z.infer<typeof scriptSegmentSchema>;

export const videoBriefSchema = z.object({
  title: z.string().min(3).max(100),
  hook: z.string().min(3).max(200),
  script: z.string().min(10).max(2000),
  /** English prompt for VEO3 (it renders best from English). */
  videoPrompt: z.string().min(10).max(1500),
  caption: z.string().min(3).max(2200),
  hashtags: z.array(z.string().regex(/^#\S+$/)).max(30),
  /** The reel, segment by segment (empty for a single clip; absent from briefs written before reels). */
  segments: z.array(scriptSegmentSchema).max(MAX_SEGMENTS),
});
export type VideoBrief = z.infer<typeof videoBriefSchema>;

export const videoBriefJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'hook', 'script', 'videoPrompt', 'caption', 'hashtags', 'segments'],
  properties: {
    title: { type: 'string', description: 'Short video title in Spanish, max 100 chars' },
    hook: { type: 'string', description: 'First 3 seconds, in Spanish' },
    script: { type: 'string', description: '30-45 s voice-over script in Spanish' },
    videoPrompt: { type: 'string', description: 'English visual prompt for Veo 3, 9:16 vertical' },
    caption: { type: 'string', description: 'Post caption in Spanish' },
    hashtags: { type: 'array', items: { type: 'string', pattern: '^#\\S+$' } },
    segments: {
      type: 'array',
      description: 'The reel as consecutive 8-second VEO3 clips, in order',
      maxItems: MAX_SEGMENTS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['visualPrompt', 'spokenLine', 'onScreenText'],
        properties: {
          visualPrompt: { type: 'string', description: 'English visual prompt for this 8 s clip, 9:16 vertical' },
          spokenLine: { type: 'string', description: 'What the presenter says in Spanish during this clip' },
          onScreenText: {
            type: 'array',
            description: `Data card lines with our figures, at most ${CARD_MAX_LINES} lines of ${CARD_MAX_LINE_CHARS} characters`,
            items: { type: 'string' },
          },
        },
      },
    },
  },
} as const;

export interface BriefRequest {
  title: string;
  type: string;
  targetPlayer: string | null;
  ourData: Record<string, unknown>;
  notes?: string;
  /** The reel the script is for (absent: a single clip, no segments asked). */
  reel?: Pick<ReelSettings, 'minSegments' | 'maxSegments' | 'segmentSeconds'>;
}

export function briefPrompt(req: BriefRequest): { system: string; user: string } {
  return {
    system:
      'Eres el guionista de un canal de La Liga Fantasy. Escribes vídeos verticales cortos, directos, ' +
      'con datos concretos. Responde solo con el JSON pedido; videoPrompt en inglés. ' +
      UNTRUSTED_RULE,
    user: [
      `Tipo de vídeo: ${req.type}`,
      `Jugador: ${req.targetPlayer ?? 'ninguno'}`,
      req.notes ? `Notas del equipo: ${req.notes}` : '',
      req.reel ? segmentInstructions(req.reel) : 'segments: lista vacía (un solo clip).',
      // The proposed title may quote a competitor's, and our data may quote their claims: both are third-party text.
      untrustedBlock([`Título propuesto: ${untrustedLine(req.title)}`, `Nuestros datos: ${untrustedText(JSON.stringify(req.ourData))}`]),
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

/** What the model is told about the reel's segments: the limits scriptProblems then checks. */
function segmentInstructions(reel: NonNullable<BriefRequest['reel']>): string {
  const count = reel.minSegments === reel.maxSegments ? `${reel.minSegments}` : `entre ${reel.minSegments} y ${reel.maxSegments}`;
  return [
    `Guion en segmentos: ${count} segmentos de ${reel.segmentSeconds} s cada uno (cada uno es un clip de Veo 3).`,
    `Por segmento: visualPrompt en inglés (qué se ve, coherente con el anterior), spokenLine en español ` +
      `(lo que dice el presentador, como mucho ${maxSpokenWords(reel.segmentSeconds)} palabras) y onScreenText: ` +
      `nuestras cifras (precio, puntos por millón, forma, mejores opciones) en ${CARD_MAX_LINES} líneas ` +
      `de ${CARD_MAX_LINE_CHARS} caracteres como mucho. El primer segmento es el gancho.`,
  ].join('\n');
}
