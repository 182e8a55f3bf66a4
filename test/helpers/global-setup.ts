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

let server: TemporalServer | TemporalCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const kind = process.env.TEST_TEMPORAL ?? 'dev';
  if (kind !== 'dev' && kind !== 'cluster') throw new Error(`TEST_TEMPORAL: "${kind}" is not one of dev, cluster`);
  if (kind === 'cluster') {
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7433);
    // Few connections: the tests' own databases and another server share PostgreSQL's 100.
    server = await startTemporalCluster({
      port,
      dbPrefix: 'temporal_test',
      sqlMaxConns: 4,
      logFile: '/tmp/reelflow-test-temporal-cluster.log',
    });
  } else {
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7833);
    server = await startTemporalServer({ port, uiPort: port + 1000, logFile: '/tmp/reelflow-test-temporal.log' });
  }
  project.provide('temporalAddress', server.address);
  project.provide('temporalKind', kind);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** 'dev' (the CLI's dev server) or 'cluster' (the real server on PostgreSQL). */
    temporalKind: 'dev' | 'cluster';
  }
}
