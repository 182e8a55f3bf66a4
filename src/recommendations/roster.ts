/**
 * Our data: the roster and bargain table (BargainAnalyzer / API-Sports shape)
 * loaded from a JSON or CSV export into `players`. A file is applied whole or
 * not at all, so a half-written export never leaves the engine comparing
 * competitors against a mix of today's and yesterday's prices.
 */
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { players } from '../db/schema';
import { parseJsonText, readInputFile } from '../validation';
import { BadInputError } from '../shared/errors';

const POSITIONS = ['GK', 'DEF', 'MID', 'FWD'] as const;
const INJURY_STATUSES = ['fit', 'doubtful', 'injured'] as const;

/** CSV cells arrive as text; JSON numbers pass through untouched. */
const numeric = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);

const rosterPlayerSchema = z
  .object({
    id: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(120),
    team: z.string().trim().min(1).max(80),
    position: z.enum(POSITIONS, { errorMap: () => ({ message: `must be one of ${POSITIONS.join(', ')}` }) }),
    /** Fantasy market price in millions of euros. */
    price: numeric(z.number().positive().max(1000)),
    points: numeric(z.number().int()),
    /** Average fantasy points over the last 5 rounds (can be negative). */
    recentForm: numeric(z.number().min(-20).max(50)),
    minutes: numeric(z.number().int().min(0)),
    injuryStatus: z.enum(INJURY_STATUSES, { errorMap: () => ({ message: `must be one of ${INJURY_STATUSES.join(', ')}` }) }).default('fit'),
    aliases: z.array(z.string().trim().min(1).max(120)).default([]),
  })
  .strict();

export type RosterPlayer = z.infer<typeof rosterPlayerSchema>;

/** A roster file the operator must fix: bad input (CLI exit 2), naming the row and field. */
export class RosterFileError extends BadInputError {
  override name = 'RosterFileError';
}

/** CSV headers may be camelCase or snake_case (recent_form, injury_status). */
const CSV_COLUMNS = new Map(Object.keys(rosterPlayerSchema.shape).map((k) => [k.toLowerCase(), k]));

/** RFC 4180: quoted cells may hold commas, newlines and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new RosterFileError('CSV ends inside a quoted cell');
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((c) => c.trim() !== ''));
}

function csvRecords(text: string, source: string): Array<{ record: Record<string, unknown>; where: string }> {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) throw new RosterFileError(`${source}: empty file`);
  const fields = header.map((h) => {
    const field = CSV_COLUMNS.get(h.trim().replace(/_/g, '').toLowerCase());
    if (!field) throw new RosterFileError(`${source}: unknown column "${h}" (expected ${[...CSV_COLUMNS.values()].join(', ')})`);
    return field;
  });
  return rows.map((cells, i) => {
    const record: Record<string, unknown> = {};
    fields.forEach((field, c) => {
      const value = (cells[c] ?? '').trim();
      if (field === 'aliases') record[field] = value ? value.split('|').map((a) => a.trim()) : [];
      else if (value !== '' || field !== 'injuryStatus') record[field] = value;
    });
    return { record, where: `row ${i + 1} (line ${i + 2})` };
  });
}

function jsonRecords(text: string, source: string): Array<{ record: unknown; where: string }> {
  const data = parseJsonText(text, source);
  const list = Array.isArray(data) ? data : (data as { players?: unknown } | null)?.players;
  if (!Array.isArray(list)) throw new RosterFileError(`${source}: expected an array of players or { "players": [...] }`);
  return list.map((record, i) => ({ record, where: `row ${i + 1}` }));
}

/** Validates every row and names the first bad one: `players.csv row 4 (line 5), field "price": ...`. */
function parseRoster(text: string, format: 'json' | 'csv', source = `roster.${format}`): RosterPlayer[] {
  const records = format === 'csv' ? csvRecords(text, source) : jsonRecords(text, source);
  const seen = new Map<string, string>();
  return records.map(({ record, where }) => {
    const parsed = rosterPlayerSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `field "${issue.path.join('.')}"` : 'row';
      throw new RosterFileError(`${source} ${where}, ${field}: ${issue.message}`);
    }
    const earlier = seen.get(parsed.data.id);
    if (earlier) throw new RosterFileError(`${source} ${where}, field "id": "${parsed.data.id}" already used in ${earlier}`);
    seen.set(parsed.data.id, where);
    return parsed.data;
  });
}

export async function readRosterFile(file: string): Promise<RosterPlayer[]> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.csv') throw new RosterFileError(`${file}: expected a .json or .csv file`);
  return parseRoster(await readInputFile(file), ext === '.csv' ? 'csv' : 'json', path.basename(file));
}

/**
 * Upserts by id in one transaction. Players missing from the file are kept:
 * recommendations name them, and a feed that drops a player for a round has
 * not deleted him from La Liga.
 */
export async function upsertRoster(db: Db, roster: readonly RosterPlayer[]): Promise<{ upserted: number }> {
  // 10 parameters per row; 1000 rows stay far below PostgreSQL's 65535 bind limit.
  const chunkSize = 1000;
  await db.transaction(async (tx) => {
    for (let i = 0; i < roster.length; i += chunkSize) {
      await tx
        .insert(players)
        .values(roster.slice(i, i + chunkSize).map((p) => ({ ...p, aliases: [...p.aliases] })))
        .onConflictDoUpdate({
          target: players.id,
          set: {
            name: sql`excluded.name`,
            team: sql`excluded.team`,
            position: sql`excluded.position`,
            price: sql`excluded.price`,
            points: sql`excluded.points`,
            recentForm: sql`excluded.recent_form`,
            minutes: sql`excluded.minutes`,
            injuryStatus: sql`excluded.injury_status`,
            aliases: sql`excluded.aliases`,
            updatedAt: sql`now()`,
          },
        });
    }
  });
  return { upserted: roster.length };
}

/** Reads, validates and applies a roster file: nothing is written unless every row is valid. */
export async function loadRosterFile(db: Db, file: string): Promise<{ upserted: number }> {
  return upsertRoster(db, await readRosterFile(file));
}
