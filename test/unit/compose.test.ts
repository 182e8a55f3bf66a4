/**
 * docker-compose.yml cannot be started on our machines (no Docker daemon, no
 * compose plugin), so nothing would notice it drifting from the code: a renamed
 * variable, a new queue no service serves, a search attribute the stack never
 * registers, an entry file that moved, a schema step `npm run temporal:cluster`
 * gained. This test reads it as Compose would (YAML merge keys, `${VAR:-default}`
 * and `${VAR:?error}` interpolation, `$$` escapes) and checks it against the
 * code it deploys and the script whose topology it mirrors.
 */
import { loadNotificationConfig, notificationEnvSchema } from '../../src/notifications/config';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiEnvSchema, DEFAULT_SIMULATOR_PORTS, envSchema, loadEnv, parseEnv, simulatorEnvSchema } from '../../src/config/env';
import { QUEUE_NAMES } from '../../src/config/providers';
import { SIMULATOR_NAMES } from '../../src/simulators/index';
import { devServerArgs } from '../../src/dev/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../src/shared/messages';
import { SHIPPED_WORKERS } from '../../bench/workers';
import { BUSY_WATCH_TICK_MS, WATCH_TICK_MS, watchTickMs } from '../../src/gate/presence';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
}

/** What the operator exports before `docker compose up` (the secret has no default on purpose). */
const SHELL = { KIE_CALLBACK_SECRET: 'compose-test-secret-0123456789abcdef0123' };

/** Compose's interpolation, as far as this file uses it: ${VAR}, ${VAR:-default}, ${VAR:?error}, and $$ for a literal $. */
function interpolate(value: string, vars: Record<string, string> = SHELL): string {
  return value.replace(/\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}/g, (m, name: string, op?: string, arg?: string) => {
    if (m === '$$') return '$';
    const set = vars[name];
    if (set !== undefined && set !== '') return set;
    if (op === ':?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return op === ':-' ? arg! : '';
  });
}

const RAW = read('docker-compose.yml');
const compose = parse(RAW, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const ours = Object.entries(services).filter(([, s]) => s.build === '.');
const envOf = (s: Service, vars?: Record<string, string>) =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
const dependsOn = (s: Service) =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});
const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command : []);
/** The shell script a `sh -ec` job runs, with Compose's $$ turned into $. */
const scriptOf = (s: Service) => {
  expect(s.entrypoint).toEqual(['/bin/sh', '-ec']);
  return interpolate(commandOf(s).join(' '));
};
/** tsconfig.build.json compiles src/X.ts to dist/X.js. */
const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
/** The compiled entry file a service of ours runs, e.g. dist/workers/main.js, and the source it is compiled from. */
const entryOf = (s: Service) => {
  const [node, file] = commandOf(s);
  expect(node, 'plain node: no tsx at run time').toBe('node');
  expect(file).toMatch(new RegExp(`^${build.compilerOptions.outDir}/.+\\.js$`));
  return { file: file!, source: file!.replace(build.compilerOptions.outDir, build.compilerOptions.rootDir).replace(/\.js$/, '.ts') };
};
/** The script behind `npm run temporal:cluster`, whose topology the compose file mirrors. */
const CLUSTER = read('src/dev/temporal-cluster.ts');
/** Published ports as [host IP or '' for every interface, host port, container port]. */
const portsOf = (s: Service) =>
  (s.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    return parts.length === 3 ? parts : ['', ...parts];
  });

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
    for (const [name, s] of ours) expect(fs.existsSync(path.join(ROOT, entryOf(s).source)), `${name} runs ${entryOf(s).file}`).toBe(true);
    expect(RAW).not.toMatch(/\btsx\b/);
  });

  it('brings back every long-running service that exits; the one-shot steps others wait for run once', () => {
    const oneShot = new Set(
      Object.values(services).flatMap((s) =>
        Object.entries(dependsOn(s)).flatMap(([dep, c]) => (c.condition === 'service_completed_successfully' ? [dep] : [])),
      ),
    );
    expect([...oneShot].sort()).toEqual(['migrate', 'temporal-admin-tools', 'temporal-schema']);
    for (const [name, s] of Object.entries(services)) expect(s.restart, name).toBe(oneShot.has(name) ? undefined : 'unless-stopped');
  });

  it('serves every task queue with some worker, and no queue that does not exist', () => {
    const served = ours.flatMap(([, s]) => {
      const cmd = commandOf(s);
      if (entryOf(s).file !== 'dist/workers/main.js') return [];
      const queues = cmd.flatMap((arg, i) => (cmd[i - 1] === '--queue' ? [arg] : []));
      return queues.length ? queues : [...QUEUE_NAMES];
    });
    for (const q of served) expect(QUEUE_NAMES).toContain(q);
    expect([...new Set(served)].sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('lets the provider-only processes look for lost workers first: the one running the workflows looks every 2 s', () => {
    const ticks = SHIPPED_WORKERS.map((w) => watchTickMs(typeof w === 'string' ? QUEUE_NAMES : w.queues)).sort();
    expect(ticks).toEqual([WATCH_TICK_MS, WATCH_TICK_MS, BUSY_WATCH_TICK_MS]);
    // A process serving every queue (the demo, one worker alone) has nobody to leave it to.
    expect(watchTickMs(QUEUE_NAMES)).toBe(WATCH_TICK_MS);
  });

  it("is the worker topology the bench's utilisation scenario runs (bench/workers.ts SHIPPED_WORKERS)", () => {
    const processes = (s: Service) => (s as { deploy?: { replicas?: number } }).deploy?.replicas ?? 1;
    const queuesOf = (s: Service) => {
      const cmd = commandOf(s);
      const queues = cmd.flatMap((arg, i) => (cmd[i - 1] === '--queue' ? [arg] : []));
      return (queues.length ? queues : [...QUEUE_NAMES]).sort().join(' ');
    };
    const workers = ours.filter(([, s]) => entryOf(s).file === 'dist/workers/main.js');
    const composed = workers.flatMap(([, s]) => Array.from({ length: processes(s) }, () => queuesOf(s))).sort();
    const benched = SHIPPED_WORKERS.map((w) => (typeof w === 'string' ? [...QUEUE_NAMES] : [...w.queues]).sort().join(' ')).sort();
    expect(benched).toEqual(composed);
  });

  it('gives each process an environment its own schema accepts, with no variable the code does not read', () => {
    const known = new Set([
      ...Object.keys(envSchema.shape),
      ...Object.keys(apiEnvSchema.shape),
      ...Object.keys(simulatorEnvSchema.shape),
      ...Object.keys(notificationEnvSchema.shape),
    ]);
    for (const [name, s] of ours) {
      const env = envOf(s);
      for (const key of Object.keys(env)) expect(known.has(key), `${name} sets ${key}, which nothing reads`).toBe(true);
      if (name === 'simulators') expect(() => parseEnv(simulatorEnvSchema, env)).not.toThrow();
      else {
        expect(() => loadEnv(env), name).not.toThrow();
        expect(() => parseEnv(apiEnvSchema, env), name).not.toThrow();
        expect(() => loadNotificationConfig(env), name).not.toThrow();
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
      API_FOOTBALL_BASE_URL: { url: env.API_FOOTBALL_BASE_URL, provider: 'api_football' },
      YOUTUBE_FEED_BASE_URL: { url: env.YOUTUBE_FEED_BASE_URL, provider: 'youtube' },
      YOUTUBE_DATA_API_BASE_URL: { url: env.YOUTUBE_DATA_API_BASE_URL, provider: 'youtube' },
      INSTAGRAM_GRAPH_BASE_URL: { url: env.INSTAGRAM_GRAPH_BASE_URL, provider: 'instagram' },
    };
    expect(new Set(Object.values(urls).map((u) => u.provider))).toEqual(new Set(SIMULATOR_NAMES));
    for (const [key, { url, provider }] of Object.entries(urls)) {
      expect(new URL(url).host, key).toBe(`simulators:${DEFAULT_SIMULATOR_PORTS[provider]}`);
    }

    const api = parseEnv(apiEnvSchema, envOf(services.api!));
    const hook = new URL(env.KIE_CALLBACK_URL!);
    expect(hook.host).toBe(`api:${api.API_PORT}`);
    expect(hook.pathname).toBe(`/hooks/kie/${env.KIE_CALLBACK_SECRET}`);
  });

  it('registers the search attributes the workflows set, before anything that starts workflows comes up', () => {
    const script = scriptOf(services['temporal-admin-tools']!);
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

  it('runs Temporal as the cluster script does: temporalio/server on deploy/temporal-server.yaml, no auto-setup', () => {
    for (const [name, s] of Object.entries(services)) expect(s.image ?? '', name).not.toMatch(/auto-setup/);
    const server = services.temporal!;
    expect(server.image).toMatch(/^temporalio\/server:/);
    // The script: spawn(server, ['--root', REPO_ROOT, '--config', 'deploy', '--env', 'temporal-server', 'start']).
    const scriptArgs = /\['--root', REPO_ROOT, ((?:'[\w-]+',? ?)+)\]/.exec(CLUSTER)?.[1]!.match(/[\w-]+/g);
    const run = /exec temporal-server --root (\S+) (.+)$/.exec(scriptOf(server));
    expect(run?.[2]!.split(' ')).toEqual(scriptArgs);
    const [root, configDir, envName] = [run![1]!, scriptArgs![1]!, scriptArgs![3]!];
    const mounts = Object.fromEntries((server.volumes ?? []).map((v) => v.split(':').slice(0, 2).reverse()));
    expect(mounts[`${root}/${configDir}/${envName}.yaml`]).toBe('./deploy/temporal-server.yaml');

    // Every variable set on the server is one the template reads (a typo would silently fall back to a default).
    const templateVars = new Set([...read('deploy/temporal-server.yaml').matchAll(/\benv "(\w+)"/g)].map((m) => m[1]));
    const env = envOf(server);
    for (const key of Object.keys(env))
      expect(templateVars.has(key), `temporal sets ${key}, which deploy/temporal-server.yaml does not read`).toBe(true);
    // The bind and broadcast addresses are the container's IP, known only at start: the entrypoint exports them.
    expect(scriptOf(server)).toMatch(/export TEMPORAL_BIND_IP=\$ip TEMPORAL_BROADCAST_ADDRESS=\$ip;/);
    for (const key of ['TEMPORAL_BIND_IP', 'TEMPORAL_BROADCAST_ADDRESS']) expect(templateVars.has(key), key).toBe(true);
    expect(mounts[env.TEMPORAL_DYNAMIC_CONFIG!], 'the dynamic config the server reads').toBe('./deploy/temporal-dynamicconfig.yaml');
  });

  it("migrates the same databases with the same temporal-sql-tool steps as the cluster script's ensureDatabase", () => {
    const prefix = /opts\.dbPrefix \?\? '(\w+)'/.exec(CLUSTER)?.[1];
    const databases = { [`${prefix}`]: 'temporal', [`${prefix}_visibility`]: 'visibility' };
    expect(CLUSTER).toContain("ensureDatabase(bin, target, dbPrefix, 'temporal')");
    expect(CLUSTER).toContain("ensureDatabase(bin, target, `${dbPrefix}_visibility`, 'visibility')");
    // The script's steps in order, its schema path written as <schema>/<kind>/versioned.
    const steps = [...CLUSTER.matchAll(/await tool\(([^;]+)\);/g)].map((m) =>
      m[1]!
        .replace("path.join(bin.schemaDir, kind, 'versioned')", "'<schema>/<kind>/versioned'")
        .match(/'[^']*'/g)!
        .map((a) => a.slice(1, -1)),
    );
    expect(steps.map((s) => s[0])).toEqual(['create-database', 'setup-schema', 'update-schema']);

    const job = services['temporal-schema']!;
    expect(job.image).toMatch(/^temporalio\/admin-tools:/);
    expect(envOf(job).SQL_PLUGIN).toBe(/'--plugin', '(\w+)'/.exec(CLUSTER)?.[1]);
    // The admin-tools image ships the server's schema where the script's cache keeps its copy: schema/postgresql/v12.
    const schemaDir = /SCHEMA_DIR="\$CACHE_DIR\/([\w/]+)"/.exec(read('scripts/temporal-server.sh'))?.[1];
    const composeSchema = `/etc/temporal/${schemaDir}`;
    const ran = scriptOf(job)
      .split(';')
      .map((cmd) => /^temporal-sql-tool --db (\w+) (.+)$/.exec(cmd.trim()))
      .map((m) => ({ db: m![1]!, args: m![2]!.split(' ') }));
    const expected = Object.entries(databases).flatMap(([db, kind]) =>
      steps.map((step) => ({ db, args: step.map((a) => a.replace('<schema>', composeSchema).replace('<kind>', kind)) })),
    );
    expect(ran).toEqual(expected);

    const server = envOf(services.temporal!);
    expect([server.TEMPORAL_DB, server.TEMPORAL_VISIBILITY_DB]).toEqual(Object.keys(databases));
    expect(dependsOn(services.temporal!)['temporal-schema']).toEqual({ condition: 'service_completed_successfully' });
  });

  it('creates the namespace with the retention the cluster script gives it', () => {
    const retention = /const RETENTION = '(\w+)'/.exec(CLUSTER)?.[1];
    expect(scriptOf(services['temporal-admin-tools']!)).toContain(`temporal operator namespace create -n default --retention ${retention}`);
  });

  it('publishes nothing that can start work except through TLS: Temporal and its UI on 127.0.0.1 only, the API behind Caddy', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [ip, hostPort] of portsOf(s)) {
        if (name === 'tls') continue;
        expect(ip, `${name} publishes ${hostPort} on every interface`).toBe('127.0.0.1');
      }
    }
    expect(portsOf(services.api!)).toEqual([]);
    // One proxy in front: the per-IP throttles must see the client Caddy forwards for, not Caddy.
    expect(parseEnv(apiEnvSchema, envOf(services.api!)).API_TRUSTED_PROXY_HOPS).toBe(1);
    expect(portsOf(services.tls!).map(([, host, container]) => [host, container])).toEqual([
      ['443', '443'],
      ['80', '80'],
    ]);
    const caddyfile = read('deploy/Caddyfile');
    expect(services.tls!.volumes).toContain('./deploy/Caddyfile:/etc/caddy/Caddyfile:ro');
    expect(caddyfile).toContain(`reverse_proxy api:${parseEnv(apiEnvSchema, envOf(services.api!)).API_PORT}`);
  });

  it('runs the Web UI read-only', () => {
    expect(envOf(services['temporal-ui']!).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  });

  it('requires the KIE callback secret from the operator: no default a deployment could keep', () => {
    expect(RAW).not.toMatch(/KIE_CALLBACK_SECRET:-/);
    expect(RAW).toMatch(/\$\{KIE_CALLBACK_SECRET:\?[^}]+\}/);
    expect(() => envOf(services.api!, {})).toThrow(/required variable KIE_CALLBACK_SECRET/);
    expect(envOf(services.api!).KIE_CALLBACK_SECRET).toBe(SHELL.KIE_CALLBACK_SECRET);
  });

  it('builds the image on Node 24 from compiled JavaScript, installs production dependencies only and runs as a non-root user', () => {
    const dockerfile = read('Dockerfile');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    for (const stage of stages) expect(stage.split('\n')[0]).toMatch(/^node:24-bookworm-slim\b/);
    const runtime = stages.at(-1)!;
    expect(stages[0]).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev/m);
    expect(runtime).toMatch(/^COPY --from=\w+ \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^COPY drizzle \.\/drizzle$/m);
    // The bundled ffprobe (src/config/ffprobe.ts) runnable by the non-root user, once npm ci has put it there.
    const chmod = runtime.search(/^RUN f=node_modules\/@ffprobe-installer\/linux-x64\/ffprobe; .*chmod a\+rx "\$f"/m);
    expect(chmod).toBeGreaterThan(runtime.search(/^RUN npm ci --omit=dev/m));
    expect(chmod).toBeLessThan(runtime.search(/^USER /m));
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(runtime)![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(fs.existsSync(path.join(ROOT, entryOf({ command: cmd }).source))).toBe(true);

    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
    // The dashboard's static files are not TypeScript: the build copies them beside the compiled routes.
    expect(pkg.scripts.build).toContain("fs.cpSync('src/dashboard', 'dist/dashboard'");
  });

  it('keeps host state out of the build context (.dockerignore)', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', '.data', 'dist', 'test-results', '.git']) expect(ignored).toContain(entry);
  });
});
