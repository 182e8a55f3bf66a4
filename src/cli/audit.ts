/**
 * The CLI's audit rows: every command that changes something writes one
 * before it acts (actor `cli:<os user>`), so no change happens without its
 * row; a row that cannot be written stops the command. That row records what
 * was asked (command, arguments, flags); a command refused or failed after it
 * (bad input, unknown id, a conflict, a server down) appends a second row with
 * the same action and its outcome (`outcome`, `exit`, `error`), as the API's
 * rows carry the status they answered. Read-only commands (list, status,
 * capacity, workers, token list, schedule describe, recommendations stats)
 * write none.
 */
import os from 'node:os';
import type { Db } from '../db/client';
import { recordAudit } from '../api/audit';
import { BadInputError, ConfigError, ConflictError, NotFoundError } from '../shared/errors';

/** The audit action of a command line, or undefined when it only reads. */
function cliAuditAction(command: string, args: readonly string[]): string | undefined {
  const [sub] = args;
  switch (command) {
    case 'enqueue':
      return 'recommendation.enqueue';
    case 'breaking':
      return 'recommendation.enqueue';
    case 'cancel':
      return 'recommendation.cancel';
    case 'reprioritise':
      return 'recommendation.reprioritise';
    case 'republish':
      return 'recommendation.republish';
    case 'retry':
      return 'recommendation.retry';
    case 'approve':
    case 'reject':
      return `recommendation.${command}.request`;
    case 'bargains':
      return 'recommendations.bargains';
    case 'roster':
      return 'roster.load';
    case 'names':
      return sub === 'alias' ? 'names.alias' : undefined;
    case 'competitor':
      // add, remove, check, add-video, ingest; list only reads.
      return sub === 'list' ? undefined : `competitor.${(sub ?? 'ingest').replace('-', '_')}`;
    case 'recommendations':
      return sub === 'generate' ? 'recommendations.generate' : undefined;
    case 'schedule':
      return sub === 'describe' ? undefined : `schedule.${sub ?? 'create'}`;
    case 'token:create':
    case 'token:revoke':
      return command.replace(':', '.');
    case 'token':
      return sub === 'create' || sub === 'revoke' ? `token.${sub}` : undefined;
    default:
      return undefined;
  }
}

/** Who ran the CLI, as the OS knows them (a container may have no passwd entry). */
export function cliActor(): string {
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME;
  }
  return `cli:${user || 'unknown'}`;
}

/** Writes the command's audit row when it changes something; true when it wrote one. */
export async function auditCliCommand(db: Db, command: string, args: readonly string[], flags: Record<string, unknown>): Promise<boolean> {
  const action = cliAuditAction(command, args);
  if (!action) return false;
  const shown = Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && k !== 'json'));
  await recordAudit(db, {
    actor: cliActor(),
    action,
    target: auditTarget(command, args),
    detail: { via: 'cli', command, args, flags: shown, host: os.hostname() },
  });
  return true;
}

/**
 * After a command whose row auditCliCommand wrote was refused (exit 2) or failed (exit 1): the outcome, in a row of
 * its own (audit_log is append-only). Best effort: the command's error is what the operator must see.
 */
export async function auditCliOutcome(db: Db, command: string, args: readonly string[], err: unknown): Promise<void> {
  const action = cliAuditAction(command, args);
  if (!action) return;
  const refused = isRefusal(err);
  await recordAudit(db, {
    actor: cliActor(),
    action,
    target: auditTarget(command, args),
    detail: {
      via: 'cli',
      command,
      outcome: refused ? 'refused' : 'failed',
      exit: refused ? 2 : 1,
      error: (err instanceof Error ? err.message : String(err)).slice(0, 1_000),
    },
  }).catch(() => undefined);
}

/** Exit 2 (bad input, an unknown id, a conflict, a bad configuration), not 1 (anything else: a server down). */
export function isRefusal(err: unknown): boolean {
  return (
    err instanceof BadInputError ||
    err instanceof NotFoundError ||
    err instanceof ConflictError ||
    err instanceof ConfigError ||
    Boolean((err as { code?: string } | null)?.code?.startsWith('ERR_PARSE_ARGS'))
  );
}

function auditTarget(command: string, args: readonly string[]): string | null {
  if (['cancel', 'reprioritise', 'republish', 'retry', 'token:revoke'].includes(command)) return args[0] ?? null;
  return command === 'token' && args[0] === 'revoke' ? (args[1] ?? null) : null;
}
