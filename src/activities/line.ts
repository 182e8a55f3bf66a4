/**
 * The workflow's side of the durable line (drizzle/0016): a job joins its provider's line without an
 * activity running, and its workflow waits for the line courier's signal (src/gate/line-courier.ts).
 * Runs as a local activity of the workflow's own worker: one database round trip per job.
 */
import type { ActivityDeps } from './deps';

/**
 * 'granted': the job holds its slot, start the provider activity now; 'go': start it now, it waits hot near the
 * head of the line (or finds its job closed); 'parked': wait for the line courier's signal.
 */
export type LineTurn = 'granted' | 'go' | 'parked';

export function createLineActivities(deps: Pick<ActivityDeps, 'database' | 'env'>) {
  return {
    async parkInLine(input: { jobId: string }): Promise<LineTurn> {
      // REELFLOW_LINE=activity: the job joins its line from its activity and waits there (before 0016).
      if (deps.env.REELFLOW_LINE === 'activity') return 'go';
      // A database outage is retried by the local activity's own policy (the workflow's proxy).
      // Returnable: a local activity runs beside its workflow's code, and this code takes a job sent back to its line
      // (src/workflows/line.ts); a workflow of an older deploy, parking through an older copy of this, is never sent one.
      const { rows } = await deps.database.pool.query<{ turn: LineTurn }>('SELECT park_job($1, true) AS turn', [input.jobId]);
      return rows[0]!.turn;
    },
  };
}
