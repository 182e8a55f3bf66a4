/**
 * Realistic answers for the local OpenAI simulator, per json_schema name, so
 * the demo and tests get briefs that read like the real model's (the generic
 * schema sampler cannot honour patterns such as "#hashtag").
 */
import type { SimResponder } from './openai';
import { COMPETITOR_ANALYSIS_SCHEMA_NAME } from '../recommendations/analysis';
import { analysisResponder } from './analysis-stand-in';

function field(text: string, label: string): string | undefined {
  return new RegExp(`^${label}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
}

const videoBriefResponder: SimResponder = (messages) => {
  const user = messages
    .filter((m) => m.role === 'user')
    .map((m) => String(m.content))
    .join('\n');
  const title = field(user, 'Título propuesto') ?? 'El chollo de la jornada';
  const player = field(user, 'Jugador');
  const who = player && player !== 'ninguno' ? player : 'este jugador';
  const tag = (s: string) => `#${s.normalize('NFD').replace(/[^\p{L}\p{N}]/gu, '')}`;
  return {
    title: title.slice(0, 100),
    hook: `¿Todavía no tienes a ${who}? Mira esto.`,
    script:
      `${title}. Los números de ${who} hablan solos: precio, puntos y forma reciente. ` +
      'Te explicamos por qué sí (o por qué no) en 30 segundos.',
    videoPrompt:
      `Vertical 9:16 sports explainer, dynamic football stadium at night, animated stat overlays about ${who}, ` +
      'energetic presenter, broadcast graphics',
    caption: `${title} — análisis con datos de La Liga Fantasy.`,
    hashtags: [tag('LaLigaFantasy'), tag('Chollos'), ...(player && player !== 'ninguno' ? [tag(player)] : [])],
  };
};

export const contentResponders: Record<string, SimResponder> = {
  video_brief: videoBriefResponder,
  [COMPETITOR_ANALYSIS_SCHEMA_NAME]: analysisResponder,
};
