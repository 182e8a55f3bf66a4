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
    segments: standInSegments(user, who),
  };
};

/**
 * As many segments as the prompt asks for (the most it allows), each within the limits it states,
 * with the figures found in "Nuestros datos" on the cards, as a careful model would write them.
 */
function standInSegments(user: string, who: string) {
  const asked = /Guion en segmentos: (?:entre \d+ y )?(\d+) segmentos/.exec(user);
  if (!asked) return [];
  const count = Number(asked[1]);
  const figure = (key: string) => {
    const m = new RegExp(`"${key}":\\s*(-?[\\d.]+)`).exec(user);
    return m ? Number(m[1]) : undefined;
  };
  const es = (n: number | undefined, digits = 1) => (n === undefined ? '?' : n.toFixed(digits).replace('.', ','));
  const price = figure('price');
  const points = figure('points');
  const form = figure('recentForm');
  const perMillion = figure('pointsPerMillion') ?? (price && points !== undefined ? points / price : undefined);
  const better = /"betterOptions":\s*\[\s*\{[^}]*?"name":\s*"([^"]{1,40})"/.exec(user)?.[1];
  const beats = [
    { line: `¿Fichar a ${who}? Esto dicen los números.`, card: [`${who}`.slice(0, 24), `Precio: ${es(price)} M€`] },
    {
      line: `Cuesta ${es(price)} millones y suma ${es(points, 0)} puntos.`,
      card: [`${es(perMillion)} pts por millón`, `${es(points, 0)} puntos`],
    },
    { line: `Su forma reciente es de ${es(form)} puntos por jornada.`, card: [`Forma: ${es(form)}`, 'Últimas 5 jornadas'] },
    {
      line: better ? `Hay opciones mejores, como ${better}.` : 'Nuestro veredicto: mira estos datos antes de decidir.',
      card: better ? ['Mejor opción:', better.slice(0, 24)] : ['Veredicto Reelflow', 'Datos, no ruido'],
    },
  ];
  return Array.from({ length: count }, (_, i) => {
    const beat = beats[i % beats.length]!;
    return {
      visualPrompt:
        `Vertical 9:16 football studio, shot ${i + 1} of ${count}: presenter at a stats wall about ${who}, ` +
        'same set, lighting and presenter as the previous shot, broadcast graphics',
      spokenLine: beat.line,
      onScreenText: beat.card,
    };
  });
}

export const contentResponders: Record<string, SimResponder> = {
  video_brief: videoBriefResponder,
  [COMPETITOR_ANALYSIS_SCHEMA_NAME]: analysisResponder,
};
