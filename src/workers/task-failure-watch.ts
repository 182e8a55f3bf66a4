/**
 * A workflow whose task fails (a replay that diverges after a code change, a bug in workflow code, a bad input given
 * to `temporal workflow start`) makes no progress and never ends: Temporal retries its task for ever, its idea waits,
 * its row says in_production, and no job of it runs long enough to be stuck. Core logs each failed task ("Failing
 * workflow task", WARN, with the run id); this watch reads those lines and raises a 'stuck' event once per run whose
 * task is still failing a moment later (its next attempt failed too): an error line naming the workflow, and the
 * team's notification. Every worker process runs it; the notification's event key makes it one message.
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
  /** How long after a failed task to look whether the next attempt failed too. */
  confirmAfterMs?: number;
}

/** The message inside core's `Failure { failure: Some(Failure { message: "…", … }) }`, or the text as it is. */
export function failureMessage(failure: string): string {
  const m = /message: "((?:[^"\\]|\\.)*)"/.exec(failure);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : failure;
}

/** Returns the runtime logger's observer: give it every SDK log entry (installTemporalRuntime's onEntry). */
export function watchWorkflowTaskFailures(opts: TaskFailureWatchOptions): { observe: (entry: LogEntry) => void; stop: () => void } {
  const confirmAfterMs = opts.confirmAfterMs ?? 10_000;
  /** Runs being looked at, and runs reported: each is reported once by this process. */
  const watching = new Set<string>();
  const reported = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const confirm = async (runId: string, failure: string) => {
    const found = await firstExecution(opts.client, runId);
    if (!found) return;
    const handle = opts.client.workflow.getHandle(found.workflowId, runId);
    const described = await handle.describe();
    const attempt = described.raw.pendingWorkflowTask?.attempt ?? 0;
    // Ended since, or its task went through on another try: nothing stuck.
    if (described.status.name !== 'RUNNING' || attempt < 2) return;
    reported.add(runId);
    const failing = { workflowId: found.workflowId, runId, workflowType: described.type, attempt, failure: failureMessage(failure) };
    opts.log.error(failing, 'workflow task fails at every try: the workflow makes no progress until its code or its history is fixed');
    await opts.onFailing(failing);
  };

  const observe = (entry: LogEntry) => {
    if (stopped || entry.message !== FAILING_TASK) return;
    const runId = entry.meta?.runId;
    if (typeof runId !== 'string' || watching.has(runId) || reported.has(runId)) return;
    watching.add(runId);
    const timer = setTimeout(() => {
      timers.delete(timer);
      confirm(runId, String(entry.meta?.failure ?? ''))
        .catch((err) => opts.log.warn({ err, runId }, 'could not look at a workflow whose task failed'))
        .finally(() => watching.delete(runId));
    }, confirmAfterMs);
    timers.add(timer);
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
