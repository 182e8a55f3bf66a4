/**
 * docker-compose.yml cannot be started on our machines (no Docker daemon), so
 * nothing would notice it drifting from the code: a renamed variable, a new
 * queue no service serves, a search attribute the stack never registers, an
 * entry file that moved. This test reads it as Compose would (YAML merge keys,
 * `${VAR:-default}` interpolation, `$$` escapes) and checks it against the
 * code it deploys.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiEnvSchema, DEFAULT_SIMULATOR_PORTS, envSchema, loadEnv, parseEnv, simulatorEnvSchema } from '../../src/config/env';
import { PROVIDERS, QUEUE_NAMES } from '../../src/config/providers';
import { devServerArgs } from '../../src/dev/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../src/shared/messages';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  volumes?: string[];
}

/** Compose's interpolation, as far as this file uses it: ${VAR:-default} with nothing set, and $$ for a literal $. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{(\w+):-([^}]*)\}/g, (m, _name: string, fallback: string) => (m === '$$' ? '$' : fallback));
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const ours = Object.entries(services).filter(([, s]) => s.build === '.');
const envOf = (s: Service) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
const dependsOn = (s: Service) =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});
const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command : []);
/** The entry file a service of ours runs, e.g. src/workers/main.ts. */
const entryOf = (s: Service) => {
  const [npx, tsx, file] = commandOf(s);
  expect([npx, tsx]).toEqual(['npx', 'tsx']);
  return file!;
};

describe('docker-compose.yml against the code it deploys', () => {
  it('names only services that exist, mounts files that exist, and runs entry files that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(dependsOn(s))) expect(services, `${name} depends on ${dep}`).toHaveProperty(dep);
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host.startsWith('./')) expect(fs.existsSync(path.join(ROOT, host)), `${name} mounts ${host}`).toBe(true);
      }
    }
    expect(ours.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'simulators', 'worker-core', 'worker-veo3']);
    for (const [name, s] of ours) expect(fs.existsSync(path.join(ROOT, entryOf(s))), `${name} runs ${entryOf(s)}`).toBe(true);
  });

  it('builds an image that can run them: production install, with tsx among the dependencies', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
  });

  it('serves every task queue with some worker, and no queue that does not exist', () => {
    const served = ours.flatMap(([, s]) => {
      const cmd = commandOf(s);
      if (entryOf(s) !== 'src/workers/main.ts') return [];
      const queues = cmd.flatMap((arg, i) => (cmd[i - 1] === '--queue' ? [arg] : []));
      return queues.length ? queues : [...QUEUE_NAMES];
    });
    for (const q of served) expect(QUEUE_NAMES).toContain(q);
    expect([...new Set(served)].sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('gives each process an environment its own schema accepts, with no variable the code does not read', () => {
    const known = new Set([...Object.keys(envSchema.shape), ...Object.keys(apiEnvSchema.shape), ...Object.keys(simulatorEnvSchema.shape)]);
    for (const [name, s] of ours) {
      const env = envOf(s);
      for (const key of Object.keys(env)) expect(known.has(key), `${name} sets ${key}, which nothing reads`).toBe(true);
      if (name === 'simulators') expect(() => parseEnv(simulatorEnvSchema, env)).not.toThrow();
      else {
        expect(() => loadEnv(env), name).not.toThrow();
        expect(() => parseEnv(apiEnvSchema, env), name).not.toThrow();
      }
    }
  });

  it('points every provider at the simulators service on its port, and KIE callbacks at the API', () => {
    const sim = parseEnv(simulatorEnvSchema, envOf(services.simulators!));
    expect(sim.SIMULATOR_HOST).toBe('0.0.0.0');
    expect(sim.SIMULATOR_PUBLIC_HOST).toBe('simulators');
    const env = loadEnv(envOf(services['worker-core']!));
    const urls: Record<string, { url: string; provider: keyof typeof DEFAULT_SIMULATOR_PORTS }> = {
      KIE_BASE_URL: { url: env.KIE_BASE_URL, provider: 'veo3' },
      OPENAI_BASE_URL: { url: env.OPENAI_BASE_URL, provider: 'openai' },
      INSTAGRAM_BASE_URL: { url: env.INSTAGRAM_BASE_URL, provider: 'instagram' },
      TIKTOK_BASE_URL: { url: env.TIKTOK_BASE_URL, provider: 'tiktok' },
      YOUTUBE_UPLOAD_BASE_URL: { url: env.YOUTUBE_UPLOAD_BASE_URL, provider: 'youtube' },
      YOUTUBE_API_BASE_URL: { url: env.YOUTUBE_API_BASE_URL, provider: 'youtube' },
    };
    expect(new Set(Object.values(urls).map((u) => u.provider))).toEqual(new Set(PROVIDERS));
    for (const [key, { url, provider }] of Object.entries(urls)) {
      expect(new URL(url).host, key).toBe(`simulators:${DEFAULT_SIMULATOR_PORTS[provider]}`);
    }

    const api = parseEnv(apiEnvSchema, envOf(services.api!));
    const hook = new URL(env.KIE_CALLBACK_URL!);
    expect(hook.host).toBe(`api:${api.API_PORT}`);
    expect(hook.pathname).toBe(`/hooks/kie/${env.KIE_CALLBACK_SECRET}`);
  });

  it('registers the search attributes the workflows set, before anything that starts workflows comes up', () => {
    const script = commandOf(services['temporal-admin-tools']!).join(' ');
    const registered = /for sa in ([\w ]+); do/.exec(script)?.[1]!.trim().split(/\s+/);
    expect(registered?.sort()).toEqual(
      Object.values(SEARCH_ATTRIBUTES)
        .map((sa) => sa.name)
        .sort(),
    );

    for (const [name, s] of ours) {
      if (!envOf(s).TEMPORAL_ADDRESS || name === 'migrate') continue;
      expect(dependsOn(s)['temporal-admin-tools'], `${name} waits for the search attributes`).toEqual({
        condition: 'service_completed_successfully',
      });
    }
  });

  it('configures Temporal as the dev server the tests run on: one partition, new matcher, fairness', () => {
    const dynamic = parse(read('deploy/temporal-dynamicconfig.yaml')) as Record<string, Array<{ value: unknown }>>;
    const production = Object.entries(dynamic)
      .map(([key, [first]]) => `${key}=${String(first!.value)}`)
      .sort();
    const args = devServerArgs({ port: 1, uiPort: 2 });
    const dev = args.flatMap((arg, i) => (args[i - 1] === '--dynamic-config-value' ? [arg] : [])).sort();
    expect(production).toEqual(dev);
  });
});
