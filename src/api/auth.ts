/**
 * API tokens. Only a sha256 of each token is stored, so a leaked database
 * dump grants nothing; the plaintext is shown once, by `reelflow token:create`.
 * Roles: 'read' sees everything, 'operator' may also change things.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { apiTokens } from '../db/schema';
import { parseInput } from '../validation';

export const ROLES = ['read', 'operator'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES, { errorMap: () => ({ message: `must be one of ${ROLES.join(', ')}` }) });

/** Who is calling: what audit rows and logs record. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface TokenInfo extends Principal {
  createdAt: Date;
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

/** Creates a token and returns its plaintext: the only time it exists outside the caller's hands. */
export async function createToken(db: Db, name: string, role: string): Promise<Principal & { token: string }> {
  const cleanName = parseInput(tokenNameSchema, name, 'name');
  const cleanRole = parseInput(roleSchema, role, 'role');
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiTokens)
    .values({ name: cleanName, role: cleanRole, tokenHash: hashToken(token) })
    .returning({ id: apiTokens.id });
  return { tokenId: row!.id, name: cleanName, role: cleanRole, token };
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
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  }));
}

/** last_used_at is a hint for finding stale tokens; refreshing it once a minute spares a write per dashboard poll. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The active token's principal, or null. */
export async function lookupToken(db: Db, token: string): Promise<Principal | null> {
  if (!token) return null;
  const [row] = await db
    .select({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  const now = new Date();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
  }
  return { tokenId: row.id, name: row.name, role: row.role as Role };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
