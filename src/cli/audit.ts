/**
 * The CLI's audit rows: every command that changes something writes one
 * before it acts (actor `cli:<os user>`), so no change happens without its
 * row; a row that cannot be written stops the command. A row records what was
 * asked (command, arguments, flags), not the outcome: a command refused
 * afterwards (bad input, unknown id) still has its row. Read-only commands
 * (list, status, capacity, workers, token list, schedule describe,
 * recommendations stats) write none.
 */
import os from 'node:os';
import type { Db } from '../db/client';
import { recordAudit } from '../api/audit';

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

/** Writes the command's audit row when it changes something. */
export async function auditCliCommand(db: Db, command: string, args: readonly string[], flags: Record<string, unknown>): Promise<void> {
  const action = cliAuditAction(command, args);
  if (!action) return;
  const shown = Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && k !== 'json'));
  await recordAudit(db, {
    actor: cliActor(),
    action,
    target: ['cancel', 'reprioritise', 'republish', 'retry', 'token:revoke'].includes(command)
      ? (args[0] ?? null)
      : command === 'token' && args[0] === 'revoke'
        ? (args[1] ?? null)
        : null,
    detail: { via: 'cli', command, args, flags: shown, host: os.hostname() },
  });
}
