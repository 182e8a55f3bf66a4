/**
 * `npm run simulators` (and the compose simulators service) as a real
 * process: it must answer the competitor analysis like the demo does, or no
 * recommendation rule ever fires against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenAiTextClient } from '../../src/providers/openai/client';
import { analyseTranscript } from '../../src/recommendations/analysis';

const ROOT = path.resolve(__dirname, '../..');
const VIDEO = {
  channel: 'Chollos Fantasy TV',
  title: '¡CARLOS ÁLVAREZ REGALADO! Los chollos de la jornada 8 que tenéis que fichar',
  views: 482_000,
  transcript: '¡Buenas, familia fantasy! Carlos Álvarez, del Levante, está REGALADO. Fichadlo ya. Y Budimir está acabado, vendedlo.',
};

const children: ChildProcess[] = [];

/** Starts src/simulators/main.ts on free ports and reads its OPENAI_BASE_URL line. */
async function startSimulatorsProcess(extraEnv: Record<string, string> = {}): Promise<string> {
  const ports = {
    SIMULATOR_VEO3_PORT: '0',
    SIMULATOR_OPENAI_PORT: '0',
    SIMULATOR_INSTAGRAM_PORT: '0',
    SIMULATOR_TIKTOK_PORT: '0',
    SIMULATOR_YOUTUBE_PORT: '0',
  };
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'src/simulators/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...ports, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulators did not start in 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /^OPENAI_BASE_URL=(\S+)$/m.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulators exited with ${code}:\n${out}`));
    });
  });
}

afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
});

describe('npm run simulators', () => {
  it('answers the competitor analysis with the rules stand-in by default, as the demo does', async () => {
    const baseUrl = await startSimulatorsProcess();
    const openai = new OpenAiTextClient({ baseUrl, apiKey: 'sim-key', model: 'gpt-4o-mini', timeoutMs: 10_000 });
    const analysis = await analyseTranscript(openai, VIDEO);
    expect(analysis.players.map((p) => p.name)).toEqual(['Carlos Álvarez', 'Budimir']);
    expect(analysis.players[0]).toMatchObject({ team: 'Levante' });
    expect(analysis.players[0]!.claims[0]).toMatchObject({ stance: 'strong_buy' });
    expect(analysis.viralPotential).toBeGreaterThanOrEqual(8);
  }, 90_000);

  it('SIMULATOR_OPENAI_ANSWERS=schema keeps the generic sampler for those who want it', async () => {
    const baseUrl = await startSimulatorsProcess({ SIMULATOR_OPENAI_ANSWERS: 'schema' });
    const openai = new OpenAiTextClient({ baseUrl, apiKey: 'sim-key', model: 'gpt-4o-mini', timeoutMs: 10_000 });
    const analysis = await analyseTranscript(openai, VIDEO);
    expect(analysis.players.map((p) => p.name)).not.toContain('Carlos Álvarez');
  }, 90_000);
});
