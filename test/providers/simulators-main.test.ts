/**
 * `npm run simulators` (and the compose simulators service) as a real
 * process: it must answer the competitor analysis like the demo does, or no
 * recommendation rule ever fires against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
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

/** Starts src/simulators/main.ts on free ports (state in a fresh directory unless given) and reads its OPENAI_BASE_URL line. */
async function startSimulatorsProcess(extraEnv: Record<string, string> = {}): Promise<string> {
  return (await startSimulatorsChild(extraEnv)).env.OPENAI_BASE_URL!;
}

async function startSimulatorsChild(extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; env: Record<string, string> }> {
  const ports = {
    SIMULATOR_VEO3_PORT: '0',
    SIMULATOR_OPENAI_PORT: '0',
    SIMULATOR_INSTAGRAM_PORT: '0',
    SIMULATOR_TIKTOK_PORT: '0',
    SIMULATOR_YOUTUBE_PORT: '0',
    SIMULATOR_API_FOOTBALL_PORT: '0',
  };
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'src/simulators/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...ports, SIMULATOR_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'reelflow-sims-')), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulators did not start in 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // Printed after KIE_BASE_URL and OPENAI_BASE_URL, the ones these tests use.
      if (/^YOUTUBE_API_BASE_URL=\S+$/m.test(out)) {
        clearTimeout(timer);
        resolve({ child, env: Object.fromEntries([...out.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!])) });
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

describe('npm run simulators across a restart', () => {
  it('keeps renders and publish ids in SIMULATOR_STATE_DIR: a stopped demo finds its render and its post again', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'reelflow-sims-'));
    const auth = { Authorization: 'Bearer sim-key', 'Content-Type': 'application/json' };
    const first = await startSimulatorsChild({ SIMULATOR_STATE_DIR: stateDir, SIMULATOR_TASK_DURATION_MS: '1500' });
    const generated = (await (
      await fetch(`${first.env.KIE_BASE_URL}/api/v1/veo/generate`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ prompt: 'a chollo', model: 'veo3_fast', aspectRatio: '9:16' }),
      })
    ).json()) as { data: { taskId: string } };
    const init = (await (
      await fetch(`${first.env.TIKTOK_BASE_URL}/v2/post/publish/video/init/`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          post_info: { title: 'x', privacy_level: 'SELF_ONLY' },
          source_info: { source: 'PULL_FROM_URL', video_url: 'https://example.com/v.mp4' },
        }),
      })
    ).json()) as { data: { publish_id: string } };
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGTERM');
    await exited;

    const second = await startSimulatorsChild({ SIMULATOR_STATE_DIR: stateDir, SIMULATOR_TASK_DURATION_MS: '1500' });
    const info = (await (
      await fetch(`${second.env.KIE_BASE_URL}/api/v1/veo/record-info?taskId=${generated.data.taskId}`, { headers: auth })
    ).json()) as { code: number; data: { successFlag: number } };
    expect(info.code).toBe(200);
    const status = (await (
      await fetch(`${second.env.TIKTOK_BASE_URL}/v2/post/publish/status/fetch/`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ publish_id: init.data.publish_id }),
      })
    ).json()) as { error: { code: string } };
    expect(status.error.code).toBe('ok');
    const stats = (await (await fetch(`${second.env.KIE_BASE_URL}/__sim/stats`)).json()) as { submissions: number };
    expect(stats.submissions).toBe(1);
  }, 120_000);
});
