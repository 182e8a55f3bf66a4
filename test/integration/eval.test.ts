/**
 * `npm run eval` on the simulator path, in the suite: the labelled set must
 * meet the targets (0 wrong players, every shared name flagged,
 * ≥ 95 % of mentions resolved, every labelled idea produced).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiTextClient } from '../../src/providers/openai/client';
import { startSimulators } from '../../src/simulators/index';
import { readDataset, runEvaluation, targetsMissed, type EvalReport } from '../../eval/evaluate';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let db: TestDatabase;
let sims: Awaited<ReturnType<typeof startSimulators>>;
let report: EvalReport;
beforeAll(async () => {
  sims = await startSimulators({ taskDurationMs: 0 });
  db = await createTestDatabase();
  const openai = new OpenAiTextClient({ baseUrl: sims.env.OPENAI_BASE_URL!, apiKey: 'sim-key', model: 'gpt-4o-mini' });
  report = await runEvaluation({ db: db.database.db, openai, model: 'simulator' });
}, 120_000);
afterAll(async () => {
  await db?.drop();
  await sims?.stop();
});

describe('npm run eval (simulator)', () => {
  it('ships a set large enough to mean something', async () => {
    const dataset = await readDataset();
    expect(dataset.videos.length).toBeGreaterThanOrEqual(25);
    expect(report.mentions).toBeGreaterThanOrEqual(60);
    expect(dataset.videos.some((v) => v.language === 'en')).toBe(true);
    expect(report.ambiguousLabelled).toBeGreaterThanOrEqual(4);
  });

  it('meets every target', () => {
    expect(report.wrongPlayer).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(targetsMissed(report)).toEqual([]);
    for (const [type, score] of Object.entries(report.byType)) expect(score.recall, type).toBe(1);
  });
});
