/**
 * PostgreSQL briefly unavailable (restart, failover, network blip) must not
 * burn a job's three attempts: connection-level errors are retried in place,
 * with backoff, for up to about a minute. Other errors surface at once.
 */
import { DATABASE_CONNECTION_ERROR_CODES } from '../shared/connection-errors';
import { sleep } from '../shared/sleep';

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!e) return false;
  if (e.code && DATABASE_CONNECTION_ERROR_CODES.has(e.code)) return true;
  if (
    /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error/i.test(
      e.message ?? '',
    )
  ) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err ? isConnectionError(e.cause) : false;
}

export async function withDbRetry<T>(fn: () => Promise<T>, { budgetMs = 60_000 } = {}): Promise<T> {
  const until = Date.now() + budgetMs;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConnectionError(err) || Date.now() > until) throw err;
      await sleep(Math.min(200 * 2 ** i, 5_000));
    }
  }
}

/** PostgreSQL's deadlock_detected. */
export const DEADLOCK = '40P01';

/**
 * Runs `fn` again when PostgreSQL chose it as a deadlock's victim, up to `attempts` times in all. Only for a call
 * that is one transaction (a single statement or function call through the pool): the victim's transaction was
 * rolled back whole, so running it again cannot do anything twice.
 */
export async function retryDeadlock<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string }).code !== DEADLOCK || attempt >= attempts) throw err;
    }
  }
}
