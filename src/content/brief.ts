/**
 * The video brief GPT writes for a recommendation: what VEO3 renders and what
 * the posts say. Validated with zod; the JSON Schema is what OpenAI's strict
 * structured output enforces on its side.
 */
import { z } from 'zod';
import { UNTRUSTED_RULE, untrustedBlock, untrustedLine, untrustedText } from './untrusted';

export const videoBriefSchema = z.object({
  title: z.string().min(3).max(100),
  hook: z.string().min(3).max(200),
  script: z.string().min(10).max(2000),
  /** English prompt for VEO3 (it renders best from English). */
  videoPrompt: z.string().min(10).max(1500),
  caption: z.string().min(3).max(2200),
  hashtags: z.array(z.string().regex(/^#\S+$/)).max(30),
});
export type VideoBrief = z.infer<typeof videoBriefSchema>;

export const videoBriefJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'hook', 'script', 'videoPrompt', 'caption', 'hashtags'],
  properties: {
    title: { type: 'string', description: 'Short video title in Spanish, max 100 chars' },
    hook: { type: 'string', description: 'First 3 seconds, in Spanish' },
    script: { type: 'string', description: '30-45 s voice-over script in Spanish' },
    videoPrompt: { type: 'string', description: 'English visual prompt for Veo 3, 9:16 vertical' },
    caption: { type: 'string', description: 'Post caption in Spanish' },
    hashtags: { type: 'array', items: { type: 'string', pattern: '^#\\S+$' } },
  },
} as const;

export interface BriefRequest {
  title: string;
  type: string;
  targetPlayer: string | null;
  ourData: Record<string, unknown>;
  notes?: string;
}

export function briefPrompt(req: BriefRequest): { system: string; user: string } {
  return {
    system:
      'Eres el guionista de un canal de La Liga Fantasy. Escribes vídeos verticales de 30-45 s, directos, ' +
      'con datos concretos. Responde solo con el JSON pedido; videoPrompt en inglés. ' +
      UNTRUSTED_RULE,
    user: [
      `Tipo de vídeo: ${req.type}`,
      `Jugador: ${req.targetPlayer ?? 'ninguno'}`,
      req.notes ? `Notas del equipo: ${req.notes}` : '',
      // The proposed title may quote a competitor's, and our data may quote their claims: both are third-party text.
      untrustedBlock([`Título propuesto: ${untrustedLine(req.title)}`, `Nuestros datos: ${untrustedText(JSON.stringify(req.ourData))}`]),
    ]
      .filter(Boolean)
      .join('\n'),
  };
}
