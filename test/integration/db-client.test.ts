/**
 * The pool every process queries through (src/db/client.ts), against real PostgreSQL: a connection the server ends
 * while it is checked out fails the work on it, never the process, and the pool goes on with new connections.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { classifyFailure } from '../../src/activities/failures';
import { connectDatabase, type Database } from '../../src/db/client';
import { FAILURE_TYPES } from '../../src/shared/messages';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
let database: Database;
beforeAll(async () => {
  t = await createTestDatabase();
  database = connectDatabase(t.url, { max: 2 });
});
afterAll(async () => {
  await database?.close();
  await t?.drop();
});

it('a checked-out connection the server ends (a restart, an admin) fails its work, not the process', async () => {
  for (const inFlight of [false, true]) {
    const session = await database.pool.connect();
    const { rows } = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const ended = new Promise((resolve) => session.once('end', resolve));
    // Idle in a transaction (as while a look asks Temporal), or with a query running.
    await session.query('BEGIN');
    const running = inFlight
      ? session.query('SELECT pg_sleep(5)').then(
          () => 'answered',
          (err: Error) => err.message,
        )
      : null;
    await t.database.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await ended;
    if (running) expect(await running).toMatch(/terminat/);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    session.release();
    // The pool dropped it: the next query gets a new connection.
    expect((await database.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  }
});

it('a value PostgreSQL refuses (a NUL, a number out of range) fails its activity for good, not retried for ever', async () => {
  const refused = [
    await database.pool.query(`SELECT $1::text`, ['a\u0000b']).catch((err: unknown) => err),
    await database.pool.query(`SELECT $1::integer`, [3_000_000_000]).catch((err: unknown) => err),
    // Through drizzle, which wraps the driver's error.
    await database.db.execute(sql`SELECT ${'9'.repeat(40)}::bigint`).catch((err: unknown) => err),
  ];
  for (const err of refused) {
    const { failure, retryable } = classifyFailure(err);
    expect(retryable).toBe(false);
    expect(failure).toMatchObject({ type: FAILURE_TYPES.badInput, nonRetryable: true });
    expect(failure.message).toMatch(/^the database refused a value \(22[0-9A-Z]{3}\): /);
  }
  // A connection lost is not a value's fault: retried.
  const lost = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
  expect(classifyFailure(lost).retryable).toBe(true);
});
