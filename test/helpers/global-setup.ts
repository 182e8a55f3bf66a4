/**
 * One real Temporal dev server for the whole run (in memory, own ports so a
 * running demo is never touched). Reuses a server already on the port.
 */
import type { TestProject } from 'vitest/node';
import { startTemporalServer, type TemporalServer } from '../../src/dev/temporal-server';

let server: TemporalServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7833);
  server = await startTemporalServer({ port, uiPort: port + 1000, logFile: '/tmp/reelflow-test-temporal.log' });
  project.provide('temporalAddress', server.address);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}
