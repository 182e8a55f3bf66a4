/** What makes a script a reel we can render, and the reel settings read from the environment. */
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env';
import { reelSeed, reelSettings } from '../../src/config/reel';
import { videoBriefJsonSchema, videoBriefSchema } from '../../src/content/brief';
import { scriptProblems, segmentPrompt } from '../../src/content/script';
import { jobConfigSchema } from '../../src/validation';

const reel = { minSegments: 3, maxSegments: 4, segmentSeconds: 8 };
const segment = (overrides: Partial<{ visualPrompt: string; spokenLine: string; onScreenText: string[] }> = {}) => ({
  visualPrompt: 'Vertical football studio, presenter at a stats wall',
  spokenLine: 'Cuesta 6,2 millones y suma 58 puntos.',
  onScreenText: ['Precio: 6,2 M€', '9,4 pts por millón'],
  ...overrides,
});

describe('scriptProblems', () => {
  it('accepts a script within every limit', () => {
    expect(scriptProblems([segment(), segment(), segment()], reel)).toEqual([]);
  });

  it('names the segment and the limit of each problem', () => {
    expect(scriptProblems([], reel)).toEqual(['the script has no segments']);
    expect(scriptProblems([segment(), segment()], reel)).toEqual(['the script has 2 segments; the reel takes 3 to 4 of 8 s']);
    const long = Array.from({ length: 23 }, () => 'palabra').join(' ');
    expect(
      scriptProblems(
        [
          segment(),
          segment({ spokenLine: long }),
          segment({ onScreenText: ['a', 'b', 'c', 'd'] }),
          segment({ onScreenText: ['Un texto que no cabe en la tarjeta'], visualPrompt: '' }),
        ],
        reel,
      ),
    ).toEqual([
      'segment 2: the spoken line is 23 words, longer than a 8 s clip carries (at most 22)',
      'segment 3: the on-screen text has 4 lines; a data card fits 3',
      'segment 4: the visual prompt is empty or too short to render',
      'segment 4: on-screen line "Un texto que no cabe en la tarjeta" is 34 characters; a data card line fits 24',
    ]);
    expect(scriptProblems([segment({ spokenLine: '  ' }), segment(), segment()], reel)).toEqual(['segment 1: the spoken line is empty']);
  });

  it('puts the spoken line in the VEO3 prompt as quoted dialogue', () => {
    expect(segmentPrompt(segment({ spokenLine: 'Dice "hola"' }))).toBe(
      `Vertical football studio, presenter at a stats wall The presenter says in Spanish: "Dice 'hola'"`,
    );
  });
});

describe('the brief schema', () => {
  it('asks the model for segments in the structured-output schema and requires them in zod', () => {
    expect(videoBriefJsonSchema.required).toContain('segments');
    expect(videoBriefJsonSchema.properties.segments.items.required).toEqual(['visualPrompt', 'spokenLine', 'onScreenText']);
    const brief = {
      title: 'Título',
      hook: 'Gancho',
      script: 'Un guion de prueba.',
      videoPrompt: 'A vertical studio shot',
      caption: 'c c',
      hashtags: [],
    };
    expect(videoBriefSchema.safeParse(brief).success).toBe(false);
    expect(videoBriefSchema.safeParse({ ...brief, segments: [segment()] }).success).toBe(true);
  });
});

describe('reel settings', () => {
  it('turns a target length into a number of 8 s segments', () => {
    expect(reelSettings('chained', { min: 24, max: 32 })).toEqual({ mode: 'chained', minSegments: 3, maxSegments: 4, segmentSeconds: 8 });
    expect(reelSettings('independent', { min: 16, max: 16 })).toMatchObject({ minSegments: 2, maxSegments: 2 });
    expect(loadEnv({}).REELFLOW_REEL_SECONDS).toEqual({ min: 24, max: 32 });
    expect(loadEnv({ REELFLOW_REEL_SECONDS: '40' }).REELFLOW_REEL_SECONDS).toEqual({ min: 40, max: 40 });
    expect(() => loadEnv({ REELFLOW_REEL_SECONDS: '4-100' })).toThrow(
      /REELFLOW_REEL_SECONDS must be "min-max" or one number of seconds between 8 and 64/,
    );
    expect(() => loadEnv({ REELFLOW_REEL_MODE: 'parallel' })).toThrow(/REELFLOW_REEL_MODE/);
  });

  it('takes a per-idea reel from job_config, refusing lengths that are not whole segments', () => {
    expect(jobConfigSchema.parse({ reel: { mode: 'clip' } }).reel).toEqual({ mode: 'clip' });
    const bad = jobConfigSchema.safeParse({ reel: { seconds: 20 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/multiple of 8/);
  });

  it('gives every segment of a reel the same seed in KIE range, from the recommendation id', () => {
    const seed = reelSeed('2f1c7a52-3d0e-4f43-9d7a-3a4b3f0c1e11');
    expect(seed).toBe(reelSeed('2f1c7a52-3d0e-4f43-9d7a-3a4b3f0c1e11'));
    expect(seed).toBeGreaterThanOrEqual(10_000);
    expect(seed).toBeLessThan(100_000);
  });
});
