/**
 * The audit trail: one row per mutating API call by an authenticated caller
 * (who, what, on which target, with what outcome, when). Written before the
 * response leaves, so a client that got an answer can rely on the row existing.
 */
import { desc } from 'drizzle-orm';
import type { Db } from '../db/client';
import { auditLog } from '../db/schema';
import type { Principal } from './auth';

export interface AuditEntry {
  principal: Principal;
  /** Dotted verb, e.g. 'recommendation.cancel'. */
  action: string;
  /** The id acted on, when there is one. */
  target?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    tokenId: entry.principal.tokenId,
    actor: entry.principal.name,
    action: entry.action,
    target: entry.target ?? null,
    detail: entry.detail ?? {},
  });
}

export async function listAudit(db: Db, limit = 100) {
  return db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(limit);
}
