/**
 * A watch's way out to the team whose first message cannot start (Temporal restarting): what it told afterwards, in
 * order. A watch must tell it at a later round, once.
 */
export function toldAfterOneFailure<T>(): { told: T[]; tell: (message: T) => Promise<void> } {
  const told: T[] = [];
  let failed = false;
  return {
    told,
    tell: async (message) => {
      if (!failed) {
        failed = true;
        throw new Error('14 UNAVAILABLE: Temporal is restarting');
      }
      told.push(message);
    },
  };
}

/** Long enough for a watch ticking every 100 ms to have told something twice, had it. */
export const quiet = () => new Promise((r) => setTimeout(r, 600));
