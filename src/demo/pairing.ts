/**
 * The demo's `.data/` (the Temporal dev server's store, the simulated providers' tasks and posts, the videos) belongs
 * to the database it ran against. Started on another one (a new DATABASE_URL, or the database dropped to start over)
 * with `.data/` kept, Temporal's closed workflows refuse to run again the competitor videos that run analysed (their
 * ids are taken), so the new database never gets them, and the posts' metrics series of the old run wake against rows
 * that are not there. So the demo writes down which database its `.data/` is for, and refuses another one, saying how
 * to start both over.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** A database as PostgreSQL knows it: dropped and created again under the same name, it is another one. */
export interface DatabaseIdentity {
  /** The server's host and port, the database's name and its oid. */
  server: string;
  name: string;
  oid: string;
}

const PAIRING_FILE = 'database.json';

/** The identity of the database at `url`, or null when it does not exist yet (the demo creates it). */
export async function databaseIdentity(url: string): Promise<DatabaseIdentity | null> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    // 3D000: invalid_catalog_name, the database does not exist.
    if ((err as { code?: string }).code === '3D000') return null;
    throw new Error(`cannot reach PostgreSQL at DATABASE_URL (${(err as Error).message}); is it running?`, { cause: err });
  }
  try {
    const { rows } = await client.query<{ name: string; oid: string }>(
      `SELECT d.datname AS name, d.oid::text AS oid FROM pg_database d WHERE d.datname = current_database()`,
    );
    return { server: `${client.host}:${client.port}`, ...rows[0]! };
  } finally {
    await client.end();
  }
}

/**
 * Null when `.data/` may be used with this database: it is the one written down, or nothing is written down yet.
 * Otherwise what to tell the user.
 */
export function pairingProblem(dataDir: string, current: DatabaseIdentity | null, shownUrl: string): string | null {
  const recorded = readPairing(dataDir);
  if (!recorded) return null;
  if (current && current.server === recorded.server && current.name === recorded.name && current.oid === recorded.oid) return null;
  const now = current ? `another database (${current.name})` : `a database that does not exist yet (${shownUrl})`;
  return (
    `${dataDir} holds a demo run on the database ${recorded.name} (oid ${recorded.oid}), and this run is on ${now}. ` +
    'With it, Temporal would refuse to analyse again the competitor videos that run analysed (so this database would ' +
    'never get them) and the old posts would be measured against rows that are not here. ' +
    `Start both over: stop every npm start, then remove ${dataDir}; or set DATABASE_URL back to that database.`
  );
}

/** Writes down that `.data/` is for `identity` (done once it exists, after the demo created and migrated it). */
export function recordPairing(dataDir: string, identity: DatabaseIdentity): void {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, PAIRING_FILE), `${JSON.stringify(identity, null, 2)}\n`);
}

function readPairing(dataDir: string): DatabaseIdentity | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, PAIRING_FILE), 'utf8')) as DatabaseIdentity;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
