/** Demo recommendations of mixed priority, one scheduled 20 s ahead. New ones each run. */
import type { RecommendationService } from '../services/recommendations';

export async function seedDemo(service: RecommendationService): Promise<string[]> {
  const run = Date.now().toString(36);
  const inputs = [
    { title: 'Vinícius no es un chollo: los números lo desmienten', type: 'counter_argument', priority: 'P0', targetPlayer: 'vinicius-jr' },
    { title: 'Todo el mundo habla de Carlos Álvarez', type: 'trend_jump', priority: 'P1', targetPlayer: 'carlos-alvarez' },
    { title: 'Respuesta al vídeo viral de La Liga Fantasy', type: 'viral_response', priority: 'P1' },
    { title: 'El centrocampista que nadie ficha y suma 7 puntos por jornada', type: 'player_spotlight', priority: 'P2', targetPlayer: 'pablo-fornals' },
    { title: 'Chollos de la jornada 14', type: 'bargain', priority: 'P3', jobConfig: { platforms: ['instagram', 'tiktok'] } },
    {
      title: 'Última hora: lesión en el Betis',
      type: 'breaking_news',
      priority: 'P0',
      scheduleAfter: new Date(Date.now() + 20_000).toISOString(),
      jobConfig: { platforms: ['instagram'] },
    },
  ];
  const ids: string[] = [];
  for (const [i, input] of inputs.entries()) {
    const { recommendation } = await service.enqueue({ ...input, source: 'manual', dedupeKey: `demo:${run}:${i}` });
    ids.push(recommendation.id);
  }
  return ids;
}
