/**
 * API tokens. Only a sha256 of each token is stored, so a leaked database
 * dump grants nothing; the plaintext is shown once, by `reelflow token create`.
 * A token may carry an expiry (`--expires-in 30d`), checked on every request.
 * Roles: 'read' sees everything, 'operator' may also change things.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { apiTokens } from '../db/schema';
import { parseInput } from '../validation';
import { BadInputError } from '../shared/errors';

export const ROLES = ['read', 'operator'] as const;
export type Role = (typeof ROLES)[number];
const roleSchema = z.enum(ROLES, { errorMap: () => ({ message: `must be one of ${ROLES.join(', ')}` }) });

/** Who is calling: what audit rows and logs record. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface TokenInfo extends Principal {
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Recognisable in logs and secret scanners; 32 random bytes make guessing pointless. */
const TOKEN_PREFIX = 'rft_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when `have` may do what `need` requires (operator includes read). */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

const tokenNameSchema = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const DURATION_UNITS_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** Ten years: beyond that "expiry" is a typo, not a policy. */
const MAX_TOKEN_LIFETIME_MS = 3650 * DURATION_UNITS_MS.d;

/** "30d", "12h", "90m", "2w" in milliseconds; anything else is bad input naming `what`. */
export function parseDuration(raw: string, what: string): number {
  const match = /^(\d+)\s*([mhdw])$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS] : NaN;
  if (!(ms > 0)) throw new BadInputError(`${what} must be a positive whole number of m, h, d or w, e.g. 12h or 30d (got "${raw}")`);
  if (ms > MAX_TOKEN_LIFETIME_MS) throw new BadInputError(`${what} must be at most 3650d (got "${raw}")`);
  return ms;
}

/**
 * Creates a token and returns its plaintext: the only time it exists outside the caller's hands.
 * `expiresInMs` absent: the token works until revoked.
 */
export async function createToken(
  db: Db,
  name: string,
  role: string,
  opts: { expiresInMs?: number } = {},
): Promise<Principal & { token: string; expiresAt: Date | null }> {
  const cleanName = parseInput(tokenNameSchema, name, 'name');
  const cleanRole = parseInput(roleSchema, role, 'role');
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = opts.expiresInMs === undefined ? null : new Date(Date.now() + opts.expiresInMs);
  const [row] = await db
    .insert(apiTokens)
    .values({ name: cleanName, role: cleanRole, tokenHash: hashToken(token), expiresAt })
    .returning({ id: apiTokens.id });
  return { tokenId: row!.id, name: cleanName, role: cleanRole, token, expiresAt };
}

/** Returns false when no active token has this id (unknown or already revoked). */
export async function revokeToken(db: Db, id: string): Promise<boolean> {
  parseInput(z.string().uuid({ message: 'must be a UUID' }), id, 'token id');
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  const rows = await db.select().from(apiTokens).orderBy(desc(apiTokens.createdAt));
  return rows.map((r) => ({
    tokenId: r.id,
    name: r.name,
    role: r.role as Role,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  }));
}

/** last_used_at is a hint for finding stale tokens; refreshing it once a minute spares a write per dashboard poll. */
const LAST_USED_RESOLUTION_MS = 60_000;

export type TokenCheck = { status: 'ok'; principal: Principal } | { status: 'expired'; principal: Principal } | { status: 'unknown' };

/** What a presented token is: active, expired (its principal, for the audit row), or unknown/revoked. */
export async function checkToken(db: Db, token: string): Promise<TokenCheck> {
  if (!token) return { status: 'unknown' };
  const [row] = await db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      lastUsedAt: apiTokens.lastUsedAt,
      expiresAt: apiTokens.expiresAt,
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  if (!row) return { status: 'unknown' };
  const principal: Principal = { tokenId: row.id, name: row.name, role: row.role as Role };
  const now = new Date();
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return { status: 'expired', principal };
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  }
  return { status: 'ok', principal };
}

/** The active (not revoked, not expired) token's principal, or null. */
export async function lookupToken(db: Db, token: string): Promise<Principal | null> {
  const found = await checkToken(db, token);
  return found.status === 'ok' ? found.principal : null;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
