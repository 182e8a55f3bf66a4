/** The demo's printing, pure: changed lines only off a terminal, word-boundary cuts, compared counts, no escapes. */
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { markLoggedByTheJob } from '../../src/activities/failures';
import {
  compareSubmissions,
  createScreenPrinter,
  createSdkLogPrinter,
  cutAtWord,
  humanLogLine,
  sdkLogLine,
  UNREACHABLE_EVERY_MS,
  withoutJsonAnsi,
} from '../../src/demo/screen';

describe('createScreenPrinter', () => {
  it('off a terminal prints only the lines that changed since the last print', () => {
    const out: string[] = [];
    const screen = createScreenPrinter({ tty: false, write: (t) => out.push(t) });
    screen.print(['header', '', 'P0 pending   a', 'P1 pending   b', 'slots veo3 0/2']);
    screen.print(['header', '', 'P0 pending   a', 'P1 pending   b', 'slots veo3 0/2']);
    screen.print(['header', '', 'P0 generating a', 'P1 pending   b', 'slots veo3 1/2']);
    expect(out).toEqual(['header\nP0 pending   a\nP1 pending   b\nslots veo3 0/2\n', 'P0 generating a\nslots veo3 1/2\n']);
    expect(out.join('')).not.toContain('\x1b');
  });

  it('on a terminal redraws the whole screen in place', () => {
    const out: string[] = [];
    const screen = createScreenPrinter({ tty: true, write: (t) => out.push(t) });
    screen.print(['a', 'b']);
    screen.print(['a', 'b']);
    expect(out).toEqual(['\x1b[2J\x1b[Ha\nb\n', '\x1b[2J\x1b[Ha\nb\n']);
  });
});

describe('cutAtWord', () => {
  it('cuts at the last word boundary with an ellipsis, within the limit', () => {
    const title = 'Carlos Álvarez, el chollo que nadie ve en el mercado de fichajes';
    const cut = cutAtWord(title, 30);
    expect(cut).toBe('Carlos Álvarez, el chollo que…');
    expect(cut.length).toBeLessThanOrEqual(30);
    expect(cutAtWord('Budimir, el delantero infravalorado', 22)).toBe('Budimir, el delantero…');
  });

  it('leaves short text alone and hard-cuts a single long word', () => {
    expect(cutAtWord('Pedri', 10)).toBe('Pedri');
    expect(cutAtWord('x'.repeat(20), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('compareSubmissions', () => {
  it('compares submissions with renders and says what a difference means', () => {
    expect(compareSubmissions(3, 3)).toBe('VEO3 submissions: 3 for 3 renders (one each)');
    expect(compareSubmissions(2, 3)).toMatch(/^VEO3 submissions: 2 for 3 renders: 1 render resumed a task submitted by an earlier run/);
    expect(compareSubmissions(4, 3)).toMatch(/^VEO3 submissions: 4 for 3 renders: 1 more submission than renders/);
    expect(compareSubmissions(1, 1)).toBe('VEO3 submissions: 1 for 1 render (one each)');
    expect(compareSubmissions(0, 0)).toBe('VEO3: nothing rendered this run, nothing paid');
    expect(compareSubmissions(1, 0)).toMatch(/^VEO3 submissions: 1 for 0 renders: 1 more submission/);
  });
});

describe('escapes', () => {
  it("are stripped from Temporal core's messages and from pino JSON lines", () => {
    const core = '\x1b[31mWorker shutdown\x1b[0m: activities still running';
    expect(sdkLogLine({ level: 'WARN', message: core })).toBe('warning: Worker shutdown: activities still running');
    const line = `${JSON.stringify({ level: 40, msg: core })}\n`;
    expect(line).toContain('\\u001b[31m');
    expect(JSON.parse(withoutJsonAnsi(line)).msg).toBe('Worker shutdown: activities still running');
  });
});

describe('sdkLogLine', () => {
  it("drops what says nothing new: a failure the job's attempt logged itself, a job handed on at Ctrl-C, no workflows", () => {
    const meta = { activityType: 'generateVideo', attempt: 1 };
    const logged = markLoggedByTheJob(ApplicationFailure.retryable('veo3: HTTP 503', 'ProviderError'));
    expect(sdkLogLine({ level: 'WARN', message: 'Activity failed', meta: { ...meta, error: logged } })).toBeNull();
    // Any other activity's failure (not a provider job: the archive, an analysis stand-in) is still printed.
    const other = ApplicationFailure.retryable('archive: disk full', 'ArchiveError');
    expect(sdkLogLine({ level: 'WARN', message: 'Activity failed', meta: { ...meta, error: other } })).toBe(
      'warning: Activity failed (activityType=generateVideo, attempt=1, error=archive: disk full)',
    );
    const shutdown = Object.assign(new Error('Worker shutting down'), { type: 'WorkerShutdown' });
    expect(sdkLogLine({ level: 'WARN', message: 'Activity failed', meta: { ...meta, error: shutdown } })).toBeNull();
    expect(sdkLogLine({ level: 'WARN', message: 'No workflows registered, not polling for workflow tasks' })).toBeNull();
  });

  it("prints the SDK's failed activity as one short line: what failed, where, why; no task token, no stack", () => {
    const error = Object.assign(new Error('youtube: still running after 2x its estimate (20000 ms)'), { type: 'ProviderError' });
    const text = sdkLogLine({
      level: 'WARN',
      message: 'Activity failed',
      meta: {
        sdkComponent: 'worker',
        taskToken: 'CiQwMWEyNDFjMi1jOGU1',
        activityType: 'readPostMetrics',
        workflowId: 'post-metrics-youtube-OlxKHDkSm4c',
        workflowType: 'postMetricsWorkflow',
        attempt: 1,
        error,
      },
    });
    expect(text).toBe(
      'warning: Activity failed (activityType=readPostMetrics, workflowType=postMetricsWorkflow, ' +
        'workflowId=post-metrics-youtube-OlxKHDkSm4c, attempt=1, error=youtube: still running after 2x its estimate (20000 ms))',
    );
    expect(sdkLogLine({ level: 'ERROR', message: 'Worker failed', meta: { error: 'boom\n  at x' } })).toBe(
      'error: Worker failed (error=boom)',
    );
  });
});

describe('createSdkLogPrinter', () => {
  it("says once, then every 30 s, what core's retries of a Temporal server that does not answer said dozens of times a second", () => {
    let now = 0;
    const lines: string[] = [];
    const print = createSdkLogPrinter(
      (l) => lines.push(l),
      () => now,
    );
    const error = 'Status { code: Unavailable, message: "tcp connect error", source: Some(...) }';
    const retry = (call: string) => ({
      level: 'WARN',
      message: `gRPC call ${call} retried 9 times`,
      meta: { sdkComponent: 'core', target: 'temporalio_client::retry', error },
    });
    for (let i = 0; i < 50; i++) {
      print(retry(i % 2 ? 'poll_activity_task_queue' : 'record_activity_task_heartbeat'));
      print({ level: 'WARN', message: 'Network error while completing activity', meta: { sdkComponent: 'core', error } });
      now += 100;
    }
    expect(lines).toEqual(['warning: the Temporal server does not answer; the workers retry their calls until it is back']);
    now += UNREACHABLE_EVERY_MS;
    print(retry('poll_workflow_task_queue'));
    expect(lines).toHaveLength(2);
    // Anything else is printed as sdkLogLine prints it.
    print({
      level: 'WARN',
      message: 'gRPC call poll_activity_task_queue retried 9 times',
      meta: { sdkComponent: 'core', error: 'NotFound' },
    });
    print({ level: 'ERROR', message: 'Worker failed', meta: { sdkComponent: 'worker' } });
    expect(lines.slice(2)).toEqual([
      'warning: gRPC call poll_activity_task_queue retried 9 times (error=NotFound)',
      'error: Worker failed',
    ]);
  });
});

describe('humanLogLine', () => {
  it('prints a pino line as its level, message and context, not JSON; an error by its message', () => {
    const lost = JSON.stringify({
      level: 40,
      time: 1,
      pid: 2,
      name: 'reelflow-demo',
      jobId: 'j1',
      outcome: 'gone',
      failMs: 16,
      msg: 'worker process lost',
    });
    expect(humanLogLine(`${lost}\n`)).toBe('warning: worker process lost (jobId=j1, outcome=gone, failMs=16)\n');
    const failed = JSON.stringify({
      level: 50,
      time: 1,
      err: { type: 'Error', message: 'boom\u001b[0m', stack: '…' },
      quotas: ['a'],
      msg: 'x',
    });
    expect(humanLogLine(failed)).toBe('error: x (err=boom, quotas=["a"])\n');
    expect(humanLogLine('not json\n')).toBe('not json\n');
  });
});
