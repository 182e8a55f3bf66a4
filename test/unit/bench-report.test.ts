/** The bench's figures table: one value column per Temporal server, rows matched by scenario and metric. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { markdownReport, textReport, type Figure, type ScenarioReport } from '../../bench/report';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

const figure = (metric: string, value: string, met: boolean | null): Figure => ({
  scenario: 'kill',
  metric,
  value,
  target: '<= 15 s',
  bullmq: '~59 s',
  met,
});
const report = (figures: Figure[], extra: Partial<ScenarioReport> = {}): ScenarioReport => ({
  scenario: 'kill',
  figures,
  notes: ['a note'],
  seconds: 12,
  ...extra,
});

describe('bench report', () => {
  it('one pass keeps the reelflow column and the plain verdict', () => {
    const md = markdownReport([{ label: 'reelflow', reports: [report([figure('resume', '10.4 s', false)])] }], ['context']);
    expect(md).toContain('| scenario | metric | reelflow | target | BullMQ |  |');
    expect(md).toContain('| kill | resume | 10.4 s | <= 15 s | ~59 s | MISS |');
    expect(md).toContain('## Notes\n\nkill (12 s):\n- a note\n');
    expect(md.endsWith('- a note\n')).toBe(true);
  });

  it('two passes share a row per metric; a figure one pass lacks is "-", a miss names the server, errors stay per column', () => {
    const columns = [
      { label: 'dev server', reports: [report([figure('resume', '10.4 s', true), figure('submissions', '1', true)])] },
      { label: 'cluster', reports: [report([figure('resume', '16.0 s', false)], { error: 'worker gone\nstack' })] },
    ];
    const md = markdownReport(columns, []);
    expect(md).toContain('| scenario | metric | dev server | cluster | target | BullMQ |  |');
    expect(md).toContain('| kill | resume | 10.4 s | 16.0 s | <= 15 s | ~59 s | MISS (cluster) |');
    expect(md).toContain('| kill | submissions | 1 | - | <= 15 s | ~59 s | ok |');
    expect(md).toContain('| kill | ERROR |  | worker gone |  |  | ERROR |');
    expect(md).toContain('## Notes: dev server');
    expect(md).toContain('## Notes: cluster');
    expect(textReport(columns)).toMatch(/^scenario +metric +dev server +cluster +target/);
  });

  it('the BullMQ column: a figure measured in this run as it is, one typed in from elsewhere marked, none as "-"', () => {
    const measured = figure('resume', '10.4 s', true);
    const typedIn = { ...figure('submissions', '1', true), bullmq: '2', bullmqTypedIn: true };
    const none = { ...figure('note', '3', null), bullmq: '-', bullmqTypedIn: true };
    const md = markdownReport([{ label: 'reelflow', reports: [report([measured, typedIn, none])] }], []);
    expect(md).toContain('| kill | resume | 10.4 s | <= 15 s | ~59 s | ok |');
    expect(md).toContain('| kill | submissions | 1 | <= 15 s | 2 (typed in) | ok |');
    expect(md).toContain('| kill | note | 3 | <= 15 s | - |  |');
    expect(textReport([{ label: 'reelflow', reports: [report([typedIn])] }])).toMatch(/submissions +1 +<= 15 s +2 \(typed in\) +ok/);
  });

  it('--cluster with --only rejects a scenario the cluster pass does not run, naming the ones it does', async () => {
    const err = await run('npx', ['tsx', 'bench/run.ts', '--cluster', '--only', 'overhead'], { cwd: ROOT }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain(
      '--only: unknown scenario overhead with --cluster; one of throughput, priority, faults, kill',
    );
  });
});
