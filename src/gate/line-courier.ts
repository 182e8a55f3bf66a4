/**
 * The line courier: tells parked jobs' workflows when to start their provider activity (drizzle/0016).
 *
 * A parked job waits in its workflow, with no activity and no heartbeat. After every grant (the gate's
 * NOTIFY) and once a second, the courier asks call_up_jobs which parked jobs should run now (granted a
 * slot, or among the first few of their line) and signals each one's workflow. Every worker process that
 * serves workflows runs one; call_up_jobs hands each job to one courier only. A signal that found no
 * running workflow cancels the job (nobody would ever take its slot); a lost one is sent again after
 * recallMs; a grant nobody came for lapses with its lease and the job is back in line (grant_slots).
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { Ticker } from '../shared/ticker';
import { closeWorkflowJobs } from '../db/queries';

export interface TurnToDeliver {
  jobId: string;
  workflowId: string;
  /** The job holds a slot (else it was called up near the head of its line). */
  granted: boolean;
}

/** Signals the job's workflow: 'gone' when no running workflow has that id any more. */
export type DeliverTurn = (turn: TurnToDeliver) => Promise<'delivered' | 'gone'>;

export interface LineCourierOptions {
  tickMs: number;
  /** A parked job called up this long ago and still parked is called again. */
  recallMs: number;
}

const DEFAULTS: LineCourierOptions = { tickMs: 1_000, recallMs: 10_000 };
/**
 * A grant pokes the courier this much later: the hot jobs near the head take the slot in-process meanwhile, and
 * the courier's query stays out of the way of the hand-over it follows (same CPUs, same database).
 */
const POKE_DELAY_MS = 50;

export class LineCourier {
  private readonly ticker: Ticker;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly deliver: DeliverTurn,
    private readonly opts: LineCourierOptions = DEFAULTS,
  ) {
    this.ticker = new Ticker(() => this.callUp(), {
      everyMs: opts.tickMs,
      pokeDelayMs: POKE_DELAY_MS,
      runAtStart: true,
      onError: (err) => this.log.warn({ err }, 'line courier round failed; retrying next tick'),
    });
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** The line may have moved (a grant): a round soon (POKE_DELAY_MS; a burst of grants makes one). */
  poke(): void {
    this.ticker.poke();
  }

  private async callUp(): Promise<void> {
    const { rows } = await this.pool.query<{ job_id: string; workflow_id: string; granted: boolean }>(
      'SELECT job_id, workflow_id, granted FROM call_up_jobs($1)',
      [this.opts.recallMs],
    );
    await Promise.all(
      rows.map(async (r) => {
        try {
          const outcome = await this.deliver({ jobId: r.job_id, workflowId: r.workflow_id, granted: r.granted });
          if (outcome === 'gone') {
            // A job in line whose workflow ended (terminated, reset): it would be granted forever and never come.
            this.log.warn({ jobId: r.job_id, workflowId: r.workflow_id }, 'parked job has no running workflow; cancelling it');
            await closeWorkflowJobs(this.pool, [r.workflow_id], 'its workflow is no longer running: nobody waits for this job');
          }
        } catch (err) {
          this.log.warn({ err, jobId: r.job_id, workflowId: r.workflow_id }, 'could not call up a parked job; calling again later');
        }
      }),
    );
  }
}
