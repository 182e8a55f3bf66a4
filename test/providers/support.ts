/** Helpers shared by the provider tests (real clients against their simulators over HTTP). */
import { expect, it } from 'vitest';
import { ProviderError, type ProviderErrorKind } from '../../src/providers/errors';
import type { SimulatorServer } from '../../src/simulators/server';

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

/**
 * The two faults every client classifies alike: a 200 whose body is not JSON
 * is `malformed` (a retry may help, the answer cannot be used), and a request
 * the provider never answers is a `transient` timeout. `request(timeoutMs)`
 * makes one call; without timeoutMs it uses the test's usual client.
 */
export function itClassifiesTransportFaults(sim: SimulatorServer, request: (timeoutMs?: number) => Promise<unknown>): void {
  it('garbage body is malformed', async () => {
    sim.setFaults({ malformedNext: 1 });
    await expectProviderError(request(), 'malformed');
  });

  it('a hung request times out as transient', async () => {
    sim.setFaults({ hang: true });
    try {
      const err = await expectProviderError(request(150), 'transient');
      expect(err.details.code).toBe('timeout');
    } finally {
      sim.setFaults({ hang: false });
    }
  });
}
