/** The one polling helper of the test suite. */
import { sleep } from '../../src/shared/sleep';

export interface WaitOptions {
  /** Default 30 000. */
  timeoutMs?: number;
  /** Default 100. */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/**
 * Calls `read` until it returns a truthy value (or, with `until`, a value
 * `until` accepts) and returns that value. A throw counts as "not yet": the
 * last error and the last value are in the timeout message.
 */
export async function waitUntil<T>(read: () => Promise<T> | T, opts: WaitOptions & { until: (value: T) => boolean }): Promise<T>;
export async function waitUntil<T>(
  read: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts?: WaitOptions,
): Promise<T>;
export async function waitUntil<T>(
  read: () => Promise<T> | T,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition', until }: WaitOptions & { until?: (value: T) => boolean } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await read();
      lastValue = value;
      if (until ? until(value) : value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const last = lastError ? `last error: ${String(lastError)}` : `last value: ${JSON.stringify(lastValue)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
}
