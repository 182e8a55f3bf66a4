/**
 * How the demo prints, kept pure so it can be tested: a terminal gets the
 * live table redrawn in place; anything else (a pipe, a CI log) gets only the
 * lines that changed, and never an escape sequence.
 */
import { loggedByTheJobAlready } from '../activities/failures';
import { terminalSafe } from '../cli/format';

export interface ScreenPrinter {
  print(lines: readonly string[]): void;
}

/**
 * On a TTY every print clears the screen and draws all lines. Otherwise a
 * print writes only the lines that were not in the previous print: a log
 * used to get the whole table again every second.
 */
export function createScreenPrinter(opts: { tty: boolean; write: (text: string) => void }): ScreenPrinter {
  let previous = new Set<string>();
  return {
    print(lines) {
      if (opts.tty) {
        opts.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
        return;
      }
      const changed = lines.filter((l) => l.trim() !== '' && !previous.has(l));
      previous = new Set(lines);
      if (changed.length) opts.write(`${changed.join('\n')}\n`);
    },
  };
}

/** At most `max` characters, cut at the last word boundary with an ellipsis (a single long word is cut where it must). */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = text.slice(0, max - 1);
  // The word in progress at the cut is dropped unless it ends exactly there.
  const space = /\s/.test(text[room.length]!) ? room.length : room.lastIndexOf(' ');
  return `${(space > 0 ? room.slice(0, space) : room).trimEnd()}…`;
}

/**
 * The closing check of the demo, e.g. "VEO3 submissions: 3 for 3 videos".
 * It compares instead of stating "one per video": a second run resumes
 * renders started before (fewer submissions), and more than one per video
 * would be a video paid for twice.
 */
export function compareSubmissions(submissions: number, renders: number): string {
  // A second `npm start` after everything was published renders nothing: '0 for 0 renders (one each)' said that badly.
  if (submissions === 0 && renders === 0) return 'VEO3: nothing rendered this run, nothing paid';
  const line = `VEO3 submissions: ${submissions} for ${renders} render${renders === 1 ? '' : 's'}`;
  if (submissions === renders) return `${line} (one each)`;
  if (submissions < renders) {
    const resumed = renders - submissions;
    return `${line}: ${resumed} render${resumed === 1 ? '' : 's'} resumed a task submitted by an earlier run (not paid again)`;
  }
  const extra = submissions - renders;
  return (
    `${line}: ${extra} more submission${extra === 1 ? '' : 's'} than renders; ` +
    'a render was submitted twice or a segment failed after submitting (see `reelflow list --jobs --provider veo3`)'
  );
}

/** ANSI escapes as they appear inside JSON strings (pino escapes the ESC byte as \\u001b). */
const JSON_ESCAPED_ANSI = /\\u001b\[[0-?]*[ -/]*[@-~]/g;

/** A pino line without the colour codes Temporal's core puts in its error messages. */
export function withoutJsonAnsi(line: string): string {
  return line.replace(JSON_ESCAPED_ANSI, '');
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
/** What every pino line carries and the demo's reader does not need. */
const LOG_NOISE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/**
 * A pino line as a person reads it beside the demo's table: "warning: worker process lost: … (jobId=…, outcome=gone)",
 * not a JSON object. An error shows its message; a line that is not JSON passes as it is.
 */
export function humanLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(withoutJsonAnsi(line)) as Record<string, unknown>;
  } catch {
    return withoutJsonAnsi(line);
  }
  const context = Object.entries(entry)
    .filter(([key, value]) => !LOG_NOISE.has(key) && value !== undefined)
    .map(([key, value]) => {
      const message = (value as { message?: unknown } | null)?.message;
      const text = typeof message === 'string' ? message : typeof value === 'object' ? JSON.stringify(value) : String(value);
      return `${key}=${text}`;
    });
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  return `${level}: ${String(entry.msg ?? '')}${context.length ? ` (${context.join(', ')})` : ''}\n`;
}

/** What of the SDK's own log meta a person beside the table needs (its task token, namespace and stack are noise). */
const SDK_KEPT = ['activityType', 'workflowType', 'workflowId', 'attempt'] as const;

type SdkLogEntry = { level: string; message: string; meta?: Record<string, unknown> };

/** Core's line for a call to the Temporal server it retries because the server does not answer (refused, down). */
function temporalUnreachable(entry: SdkLogEntry): boolean {
  const meta = entry.meta ?? {};
  return (
    meta.sdkComponent === 'core' &&
    /^(gRPC call \w+ retried \d+ times|Network error)/.test(entry.message) &&
    /Unavailable|tcp connect error/.test(String(meta.error ?? ''))
  );
}

/** How often the demo says the Temporal server does not answer, while it does not. */
export const UNREACHABLE_EVERY_MS = 30_000;

/**
 * Prints the SDK's log entries as sdkLogLine does, core's included (forwarded to the runtime's logger). With the
 * Temporal server gone, every poll, heartbeat and completion of every worker retried and said so in a raw line of its
 * own, dozens a second, burying the table: one line says it instead, again every UNREACHABLE_EVERY_MS while it lasts.
 */
export function createSdkLogPrinter(write: (line: string) => void, now: () => number = Date.now): (entry: SdkLogEntry) => void {
  let unreachableSaidAt = -Infinity;
  return (entry) => {
    if (temporalUnreachable(entry)) {
      if (now() - unreachableSaidAt < UNREACHABLE_EVERY_MS) return;
      unreachableSaidAt = now();
      write('warning: the Temporal server does not answer; the workers retry their calls until it is back');
      return;
    }
    const line = sdkLogLine(entry);
    if (line !== null) write(line);
  };
}

/**
 * A Temporal SDK log entry the demo prints (WARN and above): "warning: Activity failed (activityType=…,
 * workflowId=…, attempt=1, error=youtube: still running …)", as humanLogLine prints ours, where the whole meta
 * object came out with its task token and stack on one line. Null for an entry that says nothing new.
 */
export function sdkLogLine(entry: SdkLogEntry): string | null {
  const meta = entry.meta ?? {};
  // Provider-queue workers run activities only: that they poll no workflows is expected.
  if (/^No workflows registered/.test(entry.message)) return null;
  // A Ctrl-C hands running jobs on (WorkerShutdown): they resume at the next `npm start`, nothing failed.
  if ((meta.error as { type?: unknown } | undefined)?.type === 'WorkerShutdown') return null;
  // A provider job's attempt said so itself ('job attempt failed', with its job id): one line for one event.
  if (entry.message === 'Activity failed' && loggedByTheJobAlready(meta.error)) return null;
  const context: string[] = SDK_KEPT.filter((k) => meta[k] !== undefined).map((k) => `${k}=${String(meta[k])}`);
  const error = meta.error as { message?: unknown } | string | undefined;
  const message = typeof error === 'string' ? error : error?.message;
  if (typeof message === 'string') context.push(`error=${message.split('\n')[0]}`);
  const level = entry.level === 'WARN' ? 'warning' : entry.level.toLowerCase();
  return terminalSafe(`${level}: ${entry.message}${context.length ? ` (${context.join(', ')})` : ''}`);
}
