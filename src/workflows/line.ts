/**
 * The durable line, workflow side (issue 18): a provider job waits for its turn here, with no activity
 * running, so a backlog of thousands costs rows and idle workflows, not heartbeating activities.
 *
 *   parkInLine (local activity: join the line, drizzle/0016 park_job)
 *   -> 'go': start the provider activity now (granted, or among the first few of the line, which wait hot)
 *   -> 'parked': wait for the line courier's lineTurn signal (granted, or called up near the head)
 *
 * The provider activity then takes its slot as before (src/gate/job-slot.ts): a granted job resumes it, a
 * called-up one waits hot. A hot one pushed back by later, higher-priority jobs ends its activity as
 * ReturnedToLine (drizzle/0021) and parks here again. Cancellation and the deadline end the wait like any
 * workflow wait.
 */
import * as wf from '@temporalio/workflow';
import type { createLineActivities } from '../activities/line';
import { FAILURE_TYPES, lineTurnSignal } from '../shared/messages';
import { failureType, surviveWorkerLoss } from './provider-steps';
import { PATCHES, type Patched } from './patches';

const lineActivities = wf.proxyLocalActivities<ReturnType<typeof createLineActivities>>({
  startToCloseTimeout: '30 seconds',
  // PostgreSQL briefly away: retry until it answers (the job waits either way).
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export type TakeTurn = <R>(jobId: string, deadline: string | null, run: () => Promise<R>) => Promise<R>;

/**
 * Call once per workflow run: registers the lineTurn handler and returns `takeTurn(jobId, deadline, run)`, which
 * waits for the job's turn, then runs its provider activity (`run`, kept through lost workers), and waits again
 * whenever the activity was sent back to the line. At the deadline the wait ends too: the activity then finds
 * the deadline passed and the workflow records the expiry, as when the wait was in the activity.
 * `onGranted(jobId)`: the job holds its slot before its activity starts (that activity then announces nothing).
 */
export function durableLine(onGranted: (jobId: string) => void, patched: Patched): TakeTurn {
  const called = new Set<string>();
  wf.setHandler(lineTurnSignal, (arg) => {
    // Sent by hand without its input (`temporal workflow signal --name lineTurn`): nothing to call up. A throw here would
    // fail the workflow task at every replay, the signal being in its history: the idea stopped for good.
    if (typeof arg?.jobId !== 'string') return void wf.log.warn('ignored a lineTurn signal without a jobId', { input: arg });
    called.add(arg.jobId);
    if (arg.granted) onGranted(arg.jobId);
  });
  const awaitTurn = async (jobId: string, deadline: string | null) => {
    // Histories from before the durable line start their provider activities at once, as they did.
    if (!patched(PATCHES.durableLine)) return;
    if (called.has(jobId)) return;
    const turn = await lineActivities.parkInLine({ jobId });
    if (turn === 'granted') onGranted(jobId);
    if (turn !== 'parked') return;
    if (deadline === null) await wf.condition(() => called.has(jobId));
    else await wf.condition(() => called.has(jobId), Math.max(Date.parse(deadline) - Date.now(), 1));
  };
  return async (jobId, deadline, run) => {
    for (;;) {
      await awaitTurn(jobId, deadline);
      try {
        return await surviveWorkerLoss(run);
      } catch (err) {
        if (failureType(err) !== FAILURE_TYPES.returnedToLine) throw err;
        // Parked again: the next call-up (or a grant) is a new turn.
        called.delete(jobId);
      }
    }
  };
}
