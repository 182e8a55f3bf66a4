/**
 * `npm run eval`: the labelled set (eval/dataset.json) through the real
 * analysis, name resolution and recommendation engine. With OPENAI_API_KEY
 * set it asks OpenAI (OPENAI_MODEL); otherwise the local simulator's
 * analysis stand-in. Uses a throwaway database on DATABASE_URL's server.
 * Exit 1 when a target is missed.
 */
import { loadEnv } from '../src/config/env';
import { OpenAiTextClient } from '../src/providers/openai/client';
import { startSimulators } from '../src/simulators/index';
import { createTestDatabase } from '../test/helpers/test-db';
import { formatReport, runEvaluation, targetsMissed } from './evaluate';

async function main(): Promise<number> {
  const realModel = Boolean(process.env.OPENAI_API_KEY);
  const sims = realModel ? undefined : await startSimulators({ taskDurationMs: 0 });
  const env = loadEnv({ ...process.env, ...(sims ? { OPENAI_BASE_URL: sims.env.OPENAI_BASE_URL } : {}) });
  const openai = new OpenAiTextClient({ baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, model: env.OPENAI_MODEL });
  const db = await createTestDatabase();
  try {
    const report = await runEvaluation({
      db: db.database.db,
      openai,
      model: realModel ? `OpenAI ${env.OPENAI_MODEL}` : 'simulator (rules-based analysis stand-in)',
    });
    console.log(formatReport(report));
    const missed = targetsMissed(report);
    console.log(missed.length ? `\ntargets missed: ${missed.join('; ')}` : '\nall targets met');
    return missed.length ? 1 : 0;
  } finally {
    await db.drop();
    await sims?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
