/**
 * The demo's `.data/` belongs to the database it ran against (src/demo/pairing.ts), against real PostgreSQL: the same
 * database passes, another one, one dropped and created again under the same name, or one not created yet is refused
 * with what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseIdentity, pairingProblem, recordPairing } from '../../src/demo/pairing';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
let other: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  [t, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-pairing-'));
});
afterAll(async () => {
  await Promise.all([t?.drop(), other?.drop()]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};

describe("the demo's .data/ and its database", () => {
  it('passes its own database and refuses another, one created again under the same name, or one not there yet', async () => {
    const mine = (await databaseIdentity(t.url))!;
    expect(mine.name).toBe(t.name);
    // Nothing written down yet (a first run, or a .data/ from before the check): any database.
    expect(pairingProblem(dataDir, mine, t.name)).toBeNull();
    recordPairing(dataDir, mine);
    expect(pairingProblem(dataDir, (await databaseIdentity(t.url))!, t.name)).toBeNull();

    const another = pairingProblem(dataDir, await databaseIdentity(other.url), other.name);
    expect(another).toContain(`holds a demo run on the database ${t.name}`);
    expect(another).toContain(`this run is on another database (${other.name})`);
    expect(another).toContain(`remove ${dataDir}`);

    const missingUrl = new URL(t.url);
    missingUrl.pathname = '/reelflow_t_not_created';
    expect(await databaseIdentity(missingUrl.toString())).toBeNull();
    expect(pairingProblem(dataDir, null, 'reelflow_t_not_created')).toContain(
      'this run is on a database that does not exist yet (reelflow_t_not_created)',
    );

    // No server there: said so, before the demo starts anything.
    const nothing = new URL(t.url);
    nothing.port = '1';
    await expect(databaseIdentity(nothing.toString())).rejects.toThrow(/^cannot reach PostgreSQL at DATABASE_URL \(.+\); is it running\?$/);

    // Dropped to start over and created again by the next run, under the same name: another database.
    await admin(`DROP DATABASE "${t.name}" WITH (FORCE)`);
    await admin(`CREATE DATABASE "${t.name}"`);
    const again = (await databaseIdentity(t.url))!;
    expect(again.name).toBe(t.name);
    expect(again.oid).not.toBe(mine.oid);
    expect(pairingProblem(dataDir, again, t.name)).toContain(`this run is on another database (${t.name})`);
  });
});
