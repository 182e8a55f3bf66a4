/**
 * One real Temporal server for the whole run, on its own ports so a running
 * demo is never touched. Default: a dev server in memory (reuses one already
 * on the port). TEST_TEMPORAL=cluster (`npm run test:cluster`): the real
 * server on PostgreSQL instead, with its own databases (temporal_test,
 * temporal_test_visibility) so the demo's cluster is untouched.
 */
import type { TestProject } from 'vitest/node';
import { startTemporalCluster, type TemporalCluster } from '../../src/dev/temporal-cluster';
import { startTemporalServer, type TemporalServer } from '../../src/dev/temporal-server';

/**
 * Vitest calls setup once for the root config and once per project (vitest.config.ts), each time on a fresh copy of
 * this module, in one process: the server and its users are counted on the process, so one server serves them all
 * and the last teardown stops it.
 */
const shared = globalThis as { reelflowTestTemporal?: { server: Promise<TemporalServer | TemporalCluster>; users: number } };

export async function setup(project: TestProject): Promise<void> {
  shared.reelflowTestTemporal ??= { server: startServer(), users: 0 };
  shared.reelflowTestTemporal.users += 1;
  const server = await shared.reelflowTestTemporal.server;
  project.provide('temporalAddress', server.address);
  project.provide('temporalKind', process.env.TEST_TEMPORAL === 'cluster' ? 'cluster' : 'dev');
}

export async function teardown(): Promise<void> {
  const mine = shared.reelflowTestTemporal;
  if (!mine || --mine.users > 0) return;
  shared.reelflowTestTemporal = undefined;
  await (await mine.server.catch(() => undefined))?.stop();
}

async function startServer(): Promise<TemporalServer | TemporalCluster> {
  const kind = process.env.TEST_TEMPORAL ?? 'dev';
  if (kind !== 'dev' && kind !== 'cluster') throw new Error(`TEST_TEMPORAL: "${kind}" is not one of dev, cluster`);
  if (kind === 'cluster') {
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7433);
    // Few connections: the tests' own databases and another server share PostgreSQL's 100.
    return startTemporalCluster({
      port,
      dbPrefix: 'temporal_test',
      sqlMaxConns: 4,
      logFile: '/tmp/reelflow-test-temporal-cluster.log',
    });
  }
  const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7833);
  return startTemporalServer({ port, uiPort: port + 1000, logFile: '/tmp/reelflow-test-temporal.log' });
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** 'dev' (the CLI's dev server) or 'cluster' (the real server on PostgreSQL). */
    temporalKind: 'dev' | 'cluster';
  }
}
