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
