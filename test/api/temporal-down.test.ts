/**
 * The API with the Temporal server unreachable, at its start or later: the dashboard still loads from PostgreSQL,
 * and what needs Temporal answers 503 saying so (the workers' pollers answered 500 'internal error').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationService } from '../../src/services/recommendations';
import { connectTemporalOrLater } from '../../src/temporal/client';
import { queueWorkers } from '../../src/temporal/queue-workers';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { startTestApi, type TestApi } from './support';

let db: TestDatabase;
let api: TestApi;
let down: string | undefined;
/** How many times the API asked Temporal for its live workers. */
let asks = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  // Nothing listens on port 1: as a server that is down when the API starts.
  const connected = await connectTemporalOrLater('127.0.0.1:1', 'default');
  down = connected.down;
  const service = createRecommendationService({ database: db.database, client: connected.client, taskQueue: 'reelflow' });
  api = await startTestApi(db, {
    service,
    workers: () => {
      asks++;
      return queueWorkers(connected.client, 'reelflow');
    },
  });
}, 60_000);
afterAll(async () => {
  await api?.app.close();
  await db?.drop();
});

describe('the API with Temporal down', () => {
  it('starts, serves the dashboard from PostgreSQL and answers 503 for what needs Temporal', async () => {
    expect(down).toMatch(/^cannot reach the Temporal server at 127\.0\.0\.1:1 /);

    // The first poll does not wait out the ask's 5 s deadline (the page stayed empty that long): it answers without
    // the workers after a second, and the ask goes on for the polls after it.
    const askedAt = Date.now();
    const dashboard = await api.call('read', { method: 'GET', url: '/api/dashboard' });
    expect(Date.now() - askedAt).toBeLessThan(3_000);
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.json().data).toMatchObject({ jobs: [], workers: null });
    expect(dashboard.json().data.providers.length).toBeGreaterThan(0);

    // A poll while that ask is still out waits on the same ask, not a second one.
    const meanwhile = await api.call('read', { method: 'GET', url: '/api/dashboard' });
    expect(meanwhile.json().data.workers).toBeNull();
    expect(asks).toBe(1);

    // Once that ask has failed, the next polls do not ask again for a while: still served, workers unknown.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const again = await api.call('read', { method: 'GET', url: '/api/dashboard' });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.workers).toBeNull();
    expect(asks).toBe(1);

    const workers = await api.call('read', { method: 'GET', url: '/api/workers' });
    expect(workers.statusCode).toBe(503);
    expect(workers.json().error.message).toBe('the Temporal server is unavailable; try again shortly');

    const list = await api.call('read', { method: 'GET', url: '/api/recommendations' });
    expect(list.statusCode).toBe(200);
  }, 60_000);
});
