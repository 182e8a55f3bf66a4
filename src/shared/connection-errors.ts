/**
 * Error codes that mean "the connection failed, not the request": trying the
 * same thing again shortly can succeed. Two sets because the two kinds of peer
 * fail differently: PostgreSQL also reports a lost or refused session with
 * SQLSTATEs (server shutting down, connection failure), while an HTTP provider
 * also fails at name resolution and routing (DNS, unreachable host), which a
 * database on a fixed address does not meet in practice. Both share the socket
 * codes. No Node imports. Beside them, the SQLSTATE of a PostgreSQL error however it is wrapped.
 */

/** A socket refused, reset, broken or timed out. */
const SOCKET_ERROR_CODES = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'] as const;

/**
 * PostgreSQL unreachable or going away: 57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now (starting up), 08xxx connection exceptions.
 * src/db/retry.ts retries these in place; the API answers 503.
 */
export const DATABASE_CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  ...SOCKET_ERROR_CODES,
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** An HTTP provider unreachable (src/providers/http.ts: transient, so the activity retries). */
export const HTTP_CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  ...SOCKET_ERROR_CODES,
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The SQLSTATE of a PostgreSQL error, thrown by pg or wrapped by drizzle (its cause). */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; severity?: unknown } | undefined, depth = 0; e && depth < 3; depth++) {
    if (typeof e.code === 'string' && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}
