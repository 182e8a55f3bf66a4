/**
 * The audit trail: one row per mutating API call by an authenticated caller,
 * per failed authentication (one per source IP per window) and per mutating
 * CLI command (who, what, on which target, with what outcome, when). Written
 * before the answer leaves; a row that cannot be written fails the call. The
 * table is append-only: a trigger (drizzle/0003_security.sql) refuses UPDATE
 * and DELETE for every role.
 */
import { desc } from 'drizzle-orm';
import type { Db } from '../db/client';
import { auditLog } from '../db/schema';

export interface AuditEntry {
  /** Token name, `cli:<os user>`, or `unauthenticated`. */
  actor: string;
  tokenId?: string | null;
  /** Dotted verb, e.g. 'recommendation.cancel'. */
  action: string;
  /** The id acted on, when there is one. */
  target?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    tokenId: entry.tokenId ?? null,
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    detail: entry.detail ?? {},
  });
}

export async function listAudit(db: Db, limit = 100) {
  return db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit);
}
