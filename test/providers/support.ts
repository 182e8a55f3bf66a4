/** Helpers shared by the provider tests (real clients against their simulators over HTTP). */
import { expect } from 'vitest';
import { ProviderError, type ProviderErrorKind } from '../../src/providers/errors';

/** Short enough to keep tests fast, long enough to observe "processing". */
export const TASK_MS = 150;

/** Awaits a rejection and checks it is a ProviderError of the given kind. */
export async function expectProviderError(promise: Promise<unknown>, kind: ProviderErrorKind): Promise<ProviderError> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected ProviderError(${kind}), got value ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  const pe = err as ProviderError;
  expect(pe.kind, pe.message).toBe(kind);
  return pe;
}

/** waitUntil's pace for the provider tests: simulator tasks take TASK_MS. */
export const POLL = { timeoutMs: 3_000, intervalMs: 20 };
