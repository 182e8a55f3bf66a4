/**
 * A workflow whose task fails (a replay that diverges after a code change, a bug in workflow code, a bad input given
 * to `temporal workflow start`) makes no progress and never ends: Temporal retries its task for ever, its idea waits,
 * its row says in_production, and no job of it runs long enough to be stuck. Core logs a run's first failed task
 * ("Failing workflow task", WARN, with the run id; later tries fail silently and time out). This watch reads those
 * lines and looks at the run every few seconds: once a third try is under way (two have failed) it raises a 'stuck'
 * event, an error line naming the workflow and the team's notification; a run that ends or whose task goes through
 * is let go. Every worker process runs it; the notification's event key makes it one message.
 * A run that failed before this process started logs nothing here (a restart replays it silently): the Web UI's
 * pending workflow task shows it.
 */
import type { Client } from '@temporalio/client';
import type { LogEntry } from '@temporalio/worker';
import type { Logger } from '../logger';

/** Core's message for a workflow task it failed (sdk-core's worker::workflow). */
const FAILING_TASK = 'Failing workflow task';

export interface FailingWorkflow {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** How many times its task has been tried. */
  attempt: number;
  /** The failure's message, as core reported it. */
  failure: string;
}

export interface TaskFailureWatchOptions {
  client: Client;
  log: Logger;
  onFailing: (failing: FailingWorkflow) => Promise<unknown>;
  /** How often to look at a run whose task failed, until its third try or its recovery. */
  confirmEveryMs?: number;
  /** How many looks before letting a run go (its tries slowed by backoff, or visibility slow to list it). */
  looks?: number;
}

/** Tries of a workflow task that mean two have failed. */
const FAILED_TWICE = 3;
/** Runs remembered as reported: a long-lived worker forgets the oldest. */
const MAX_REPORTED = 10_000;

/** The message inside core's `Failure { failure: Some(Failure { message: "…", … }) }`, or the text as it is. */
export function failureMessage(failure: string): string {
  const m = /message: "((?:[^"\\]|\\.)*)"/.exec(failure);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : failure;
}

/** Returns the runtime logger's observer: give it every SDK log entry (installTemporalRuntime's onEntry). */
export function watchWorkflowTaskFailures(opts: TaskFailureWatchOptions): { observe: (entry: LogEntry) => void; stop: () => void } {
  const everyMs = opts.confirmEveryMs ?? 10_000;
  const looks = opts.looks ?? 30;
  /** Runs being looked at, and runs reported: each is reported once by this process. */
  const watching = new Set<string>();
  const reported = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const later = (fn: () => void) => {
    // A look in flight when the watch stops ends here, not in a timer nobody clears.
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) fn();
    }, everyMs);
    timers.add(timer);
  };

  /** 'report', 'drop' (ended, or its task went through), or 'wait' (not listed yet, or on its second try). */
  const look = async (runId: string, failure: string): Promise<'report' | 'drop' | 'wait'> => {
    const found = await firstExecution(opts.client, runId);
    if (!found) return 'wait';
    const described = await opts.client.workflow.getHandle(found.workflowId, runId).describe();
    const attempt = described.raw.pendingWorkflowTask?.attempt ?? 0;
    if (described.status.name !== 'RUNNING' || attempt === 0 || attempt === 1) return 'drop';
    if (attempt < FAILED_TWICE) return 'wait';
    const failing = { workflowId: found.workflowId, runId, workflowType: described.type, attempt, failure: failureMessage(failure) };
    reported.add(runId);
    if (reported.size > MAX_REPORTED) reported.delete(reported.values().next().value!);
    opts.log.error(failing, 'workflow task fails at every try: the workflow makes no progress until its code or its history is fixed');
    await opts.onFailing(failing);
    return 'report';
  };

  const watch = (runId: string, failure: string, left: number) =>
    later(() => {
      look(runId, failure)
        .catch((err) => {
          opts.log.warn({ err, runId }, 'could not look at a workflow whose task failed');
          return 'wait' as const;
        })
        .then((next) => {
          if (next === 'wait' && left > 1) watch(runId, failure, left - 1);
          else watching.delete(runId);
        });
    });

  const observe = (entry: LogEntry) => {
    if (stopped || entry.message !== FAILING_TASK) return;
    const runId = entry.meta?.runId;
    if (typeof runId !== 'string' || watching.has(runId) || reported.has(runId)) return;
    watching.add(runId);
    watch(runId, String(entry.meta?.failure ?? ''), looks);
  };

  return {
    observe,
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}

/** The workflow a run belongs to (visibility: RunId is one of Temporal's own search attributes). */
async function firstExecution(client: Client, runId: string): Promise<{ workflowId: string } | null> {
  for await (const execution of client.workflow.list({ query: `RunId = '${runId.replace(/'/g, '')}'`, pageSize: 1 })) {
    return { workflowId: execution.workflowId };
  }
  return null;
}
