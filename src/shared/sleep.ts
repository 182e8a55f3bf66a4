/**
 * The one timer-based pause (processes, tests, bench, scripts). Not for
 * workflow code: a workflow sleeps with the SDK's `wf.sleep`, which the sandbox
 * lint enforces. No Node imports.
 */

/** Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
