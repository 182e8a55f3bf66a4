/**
 * A long, claim-heavy transcript no longer fails analysis ("at most 50 claims"):
 * it is analysed in pieces through the real client and the simulator's
 * stand-in, merged by player, and what the merge leaves out is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiTextClient } from '../../src/providers/openai/client';
import { analyseLongTranscript, mergeAnalyses } from '../../src/recommendations/analysis';
import { splitTranscript } from '../../src/shared/transcript-pieces';
import { startSimulators } from '../../src/simulators/index';

let sims: Awaited<ReturnType<typeof startSimulators>>;
beforeAll(async () => {
  sims = await startSimulators({ taskDurationMs: 0 });
});
afterAll(async () => sims?.stop());

describe('long transcripts', () => {
  it('splits at sentence ends, never inside a sentence', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Frase número ${i} sobre Budimir.`).join(' ');
    const pieces = splitTranscript(text, 200);
    expect(pieces.length).toBeGreaterThan(5);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(200);
    expect(pieces.join(' ')).toBe(text);
  });

  it('analyses a 120-claim transcript in pieces and keeps 50 claims for the player, counting the rest', async () => {
    const openai = new OpenAiTextClient({ baseUrl: sims.env.OPENAI_BASE_URL!, apiKey: 'sim-key', model: 'gpt-4o-mini' });
    const transcript = [
      ...Array.from({ length: 120 }, (_, i) => `Budimir, del Osasuna, fichad ya, jornada ${(i % 30) + 1}.`),
      'Y Muriqi, vended.',
    ].join(' ');
    const analysis = await analyseLongTranscript(
      openai,
      { channel: 'Canal', title: 'Todo Budimir', views: 1000, transcript },
      { maxChars: 1_500 },
    );
    const budimir = analysis.players.find((p) => p.name === 'Budimir')!;
    expect(budimir.claims).toHaveLength(50);
    expect(budimir.team).toBe('Osasuna');
    expect(analysis.players.map((p) => p.name)).toContain('Muriqi');
    expect(analysis.skipped).toEqual([{ what: 'claims', count: 70, reason: 'over 50 claims for one player' }]);
  });

  it('merges by name across pieces: team from wherever it was said, viral potential the highest', () => {
    const merged = mergeAnalyses([
      { topic: 'a', sentiment: 'positive', viralPotential: 4, players: [{ name: 'Budimir', team: null, claims: [] }] },
      { topic: 'b', sentiment: 'positive', viralPotential: 7, players: [{ name: 'BUDIMIR', team: 'Osasuna', claims: [] }] },
    ]);
    expect(merged).toMatchObject({ topic: 'a', viralPotential: 7, players: [{ name: 'Budimir', team: 'Osasuna' }] });
    expect(merged.skipped).toBeUndefined();
  });
});
