/**
 * A worker pointed at the real APIs without keys used to start "fine" with
 * the placeholder keys and fail every job with 401. Placeholders are for the
 * simulators only; a real host needs real credentials over https.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertProviderCredentials, isLocalHost, loadEnv, providerCredentialProblems } from '../../src/config/env';
import { createProviders } from '../../src/providers';
import { ConfigError } from '../../src/shared/errors';

const ROOT = path.resolve(__dirname, '../..');

/** Every base URL on the docker-compose simulators service, as compose sets them. */
const SIMULATED = {
  KIE_BASE_URL: 'http://simulators:7301',
  OPENAI_BASE_URL: 'http://simulators:7302/v1',
  INSTAGRAM_BASE_URL: 'http://simulators:7303/v24.0',
  TIKTOK_BASE_URL: 'http://simulators:7304',
  YOUTUBE_UPLOAD_BASE_URL: 'http://simulators:7305/upload/youtube/v3',
  YOUTUBE_API_BASE_URL: 'http://simulators:7305/youtube/v3',
  API_FOOTBALL_BASE_URL: 'http://simulators:7306',
};

const REAL_KEYS = {
  KIE_API_KEY: 'kie-live-1',
  OPENAI_API_KEY: 'sk-live-1',
  INSTAGRAM_ACCESS_TOKEN: 'IGQ-live',
  INSTAGRAM_USER_ID: '17841455555555555',
  TIKTOK_ACCESS_TOKEN: 'act.live',
  YOUTUBE_ACCESS_TOKEN: 'ya29.live',
  API_FOOTBALL_KEY: 'apisports-live',
};

describe('provider credentials', () => {
  it('counts loopback and single-label (compose service) hosts as local, anything with a dot as not', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', 'sim.localhost', '[::1]', '::1', 'simulators', 'SIMULATORS'])
      expect(isLocalHost(host), host).toBe(true);
    for (const host of ['api.kie.ai', 'api.openai.com', '10.0.0.5', '192.168.1.20', '[2001:db8::1]', 'localhost.evil.com'])
      expect(isLocalHost(host), host).toBe(false);
  });

  it('refuses the defaults (real APIs, placeholder keys), naming every variable', () => {
    const problems = providerCredentialProblems(loadEnv({}));
    expect(problems).toEqual([
      'KIE_API_KEY is required when KIE_BASE_URL points at https://api.kie.ai (a non-local host)',
      'OPENAI_API_KEY is required when OPENAI_BASE_URL points at https://api.openai.com/v1 (a non-local host)',
      'INSTAGRAM_ACCESS_TOKEN is required when INSTAGRAM_BASE_URL points at https://graph.instagram.com/v24.0 (a non-local host)',
      'INSTAGRAM_USER_ID is required when INSTAGRAM_BASE_URL points at https://graph.instagram.com/v24.0 (a non-local host)',
      'TIKTOK_ACCESS_TOKEN is required when TIKTOK_BASE_URL points at https://open.tiktokapis.com (a non-local host)',
      'YOUTUBE_ACCESS_TOKEN is required when YOUTUBE_UPLOAD_BASE_URL points at ' +
        'https://www.googleapis.com/upload/youtube/v3 (a non-local host)',
      'API_FOOTBALL_KEY is required when API_FOOTBALL_BASE_URL points at https://v3.football.api-sports.io (a non-local host)',
    ]);
    expect(() => assertProviderCredentials(loadEnv({}))).toThrow(ConfigError);
    // createProviders is what every client-building process goes through.
    expect(() => createProviders(loadEnv({ KIE_API_KEY: '  ' }))).toThrow(
      /KIE_API_KEY is required when KIE_BASE_URL points at https:\/\/api\.kie\.ai/,
    );
  });

  it('accepts placeholders against local simulators, and real keys against the real APIs', () => {
    expect(providerCredentialProblems(loadEnv(SIMULATED))).toEqual([]);
    expect(
      providerCredentialProblems(
        loadEnv({ KIE_BASE_URL: 'http://127.0.0.1:7301', OPENAI_BASE_URL: 'http://localhost:7302/v1', ...REAL_KEYS }),
      ),
    ).toEqual([]);
    expect(providerCredentialProblems(loadEnv(REAL_KEYS))).toEqual([]);
    expect(() => createProviders(loadEnv(SIMULATED))).not.toThrow();
  });

  it('checks each provider on its own, and requires https for a non-local host', () => {
    expect(providerCredentialProblems(loadEnv({ ...SIMULATED, KIE_BASE_URL: 'https://api.kie.ai' }))).toEqual([
      'KIE_API_KEY is required when KIE_BASE_URL points at https://api.kie.ai (a non-local host)',
    ]);
    expect(
      providerCredentialProblems(
        loadEnv({ ...SIMULATED, YOUTUBE_API_BASE_URL: 'http://www.googleapis.com/youtube/v3', YOUTUBE_ACCESS_TOKEN: 'ya29.live' }),
      ),
    ).toEqual(['YOUTUBE_API_BASE_URL must use https for a non-local host (got http://www.googleapis.com/youtube/v3)']);
  });

  it('refuses a compressed post-metrics clock unless every platform it reads is a simulator', () => {
    const compressed = { REELFLOW_METRICS_HOUR_MS: '1000' };
    expect(providerCredentialProblems(loadEnv({ ...SIMULATED, ...compressed }))).toEqual([]);
    expect(providerCredentialProblems(loadEnv({ ...SIMULATED, ...REAL_KEYS, TIKTOK_BASE_URL: 'https://open.tiktokapis.com' }))).toEqual([]);
    expect(
      providerCredentialProblems(loadEnv({ ...SIMULATED, ...REAL_KEYS, ...compressed, TIKTOK_BASE_URL: 'https://open.tiktokapis.com' })),
    ).toEqual([
      'REELFLOW_METRICS_HOUR_MS compresses the post-metrics clock, for the simulators only: ' +
        'TIKTOK_BASE_URL points at https://open.tiktokapis.com (a non-local host)',
    ]);
    // A real render provider beside simulated platforms does not matter to the clock.
    expect(providerCredentialProblems(loadEnv({ ...SIMULATED, ...REAL_KEYS, ...compressed, KIE_BASE_URL: 'https://api.kie.ai' }))).toEqual(
      [],
    );
  });

  it('the worker entry refuses to start, exits non-zero and names the variables', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...SIMULATED, KIE_BASE_URL: 'https://api.kie.ai', LOG_LEVEL: 'error' };
    delete env.KIE_API_KEY;
    // An unreachable Temporal and database: the check must come before either is touched.
    env.TEMPORAL_ADDRESS = '127.0.0.1:1';
    env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/none';
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'src/workers/main.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain('KIE_API_KEY is required when KIE_BASE_URL points at https://api.kie.ai (a non-local host)');
  }, 60_000);
});
