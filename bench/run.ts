/**
 * `npm run bench [-- --only <scenario>[,<scenario>]] [--cluster]`
 *
 * Figures for the engine against real Temporal, real PostgreSQL, simulated
 * providers and two worker processes on this machine. Prints a table with the
 * targets and the BullMQ peer's figures side by side (utilisation, priority and
 * kill run BullMQ 6.7 on the same traces in the same run: bench/peer/bullmq.ts)
 * and writes the same table to bench/results.md. Figures are reported, never asserted: the
 * exit code is 0 unless the bench itself could not run (set-up or a scenario
 * breaking).
 *
 * `--cluster` runs the scenarios whose figures depend on the server (throughput,
 * priority, kill) twice, one pass after the other so they never share the CPUs:
 * on the dev server, then on the Temporal server on PostgreSQL; one column each,
 * written to bench/results-cluster.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { markdownReport, textReport, type ReportColumn, type ScenarioReport } from './report';
import type { Scenario } from './scenario';
import { Cleanups, POLL_INTERVAL_MS, startBench, TEMPORAL_KINDS, type Bench, type TemporalKind } from './setup';
import { archive } from './scenarios/archive';
import { backlog } from './scenarios/backlog';
import { discovery } from './scenarios/discovery';
import { faults } from './scenarios/faults';
import { history } from './scenarios/history';
import { deploy, kill } from './scenarios/kill';
import { metrics } from './scenarios/metrics';
import { overhead } from './scenarios/overhead';
import { priority } from './scenarios/priority';
import { quota } from './scenarios/quota';
import { reel } from './scenarios/reel';
import { throughput } from './scenarios/throughput';
import { utilisation } from './scenarios/utilisation';
import { sleep } from '../src/shared/sleep';

/**
 * Run order. deploy starts a replacement worker; kill leaves one worker process, which is all discovery
 * needs (its 1,500 held analyses are terminated at its end, so it goes last).
 */
const SCENARIOS: readonly Scenario[] = [
  throughput,
  overhead,
  utilisation,
  priority,
  backlog,
  faults,
  quota,
  reel,
  metrics,
  archive,
  deploy,
  kill,
  history,
  discovery,
];
/**
 * What differs between the servers: matching and persistence (throughput, priority), the heartbeat timeout (kill),
 * and a server restart, which only the cluster survives (faults).
 */
const CLUSTER_SCENARIOS: readonly Scenario[] = [throughput, priority, faults, kill];
const RESULTS_FILE = path.join(__dirname, 'results.md');
/** Apart, so a --cluster run (three scenarios) does not replace the notes of the last full run. */
const CLUSTER_RESULTS_FILE = path.join(__dirname, 'results-cluster.md');

const log = (msg: string) => console.log(`[bench] ${msg}`);

/** Waits (at most SETTLE_MAX_MS) for a second in which the CPUs are mostly idle; says how long it took. */
const SETTLE_IDLE = 0.8;
const SETTLE_MAX_MS = 30_000;
async function settle(): Promise<string> {
  const t0 = Date.now();
  const sample = () =>
    os
      .cpus()
      .reduce((acc, c) => ({ idle: acc.idle + c.times.idle, total: acc.total + Object.values(c.times).reduce((a, b) => a + b, 0) }), {
        idle: 0,
        total: 0,
      });
  for (;;) {
    const a = sample();
    await sleep(1_000);
    const b = sample();
    const idle = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (idle >= SETTLE_IDLE) return `${Math.round(idle * 100)}% idle after ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    if (Date.now() - t0 >= SETTLE_MAX_MS) return `still busy (${Math.round(idle * 100)}% idle) after ${SETTLE_MAX_MS / 1000} s`;
  }
}

function parseOptions(): { chosen: Scenario[]; servers: TemporalKind[] } {
  const { values } = parseArgs({
    options: { only: { type: 'string', multiple: true }, cluster: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(
      'usage: npm run bench [-- --only <name>[,<name>]] [--cluster]\n\n' +
        `${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.summary}`).join('\n')}\n\n` +
        `  --cluster    run ${CLUSTER_SCENARIOS.map((s) => s.name).join(', ')} on the dev server and on the Temporal server ` +
        'on PostgreSQL (built on first use, minutes), side by side',
    );
    process.exit(0);
  }
  const offered = values.cluster ? CLUSTER_SCENARIOS : SCENARIOS;
  const wanted = (values.only ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !offered.some((s) => s.name === w));
  if (unknown.length) {
    const scope = values.cluster ? ' with --cluster' : '';
    console.error(`--only: unknown scenario ${unknown.join(', ')}${scope}; one of ${offered.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  return {
    chosen: wanted.length ? offered.filter((s) => wanted.includes(s.name)) : [...offered],
    servers: values.cluster ? ['dev', 'cluster'] : ['dev'],
  };
}

const scenarioTimes = (c: ReportColumn) => c.reports.map((r) => `${r.scenario} ${r.seconds.toFixed(0)} s`).join(', ');

/**
 * One pass on `kind`: the scenarios in order on a bench (server, database, simulators, workers), a fresh one after
 * each scenario that leaves the dev server busy (Scenario.leavesServerBusy), everything stopped at the end. Not on the
 * cluster: a new cluster process finds the same workflows in PostgreSQL, so it would be no cleaner, and its one
 * scenario after faults (kill) measures a worker, not the server's spare capacity.
 */
async function runPass(
  kind: TemporalKind,
  chosen: readonly Scenario[],
  cleanups: Cleanups,
  interrupted: () => boolean,
  onReport: (reports: readonly ScenarioReport[]) => void,
) {
  const reports: ScenarioReport[] = [];
  let bench: Bench | undefined;
  try {
    for (const scenario of chosen) {
      if (interrupted()) break;
      bench ??= await startBench(log, cleanups, kind);
      // What the previous scenario left running (retention, vacuum, closing workflows) is not this one's figure.
      const settled = await settle();
      log(`--- ${scenario.name} on the ${TEMPORAL_KINDS[kind]}: ${scenario.summary} (machine ${settled})`);
      const report: ScenarioReport = { scenario: scenario.name, figures: [], notes: [`started with the machine ${settled}`], seconds: 0 };
      const t0 = Date.now();
      try {
        await scenario.run(bench, {
          figure: (f) => report.figures.push({ scenario: scenario.name, ...f }),
          note: (n) => report.notes.push(n),
          log: (m) => log(m),
        });
      } catch (err) {
        report.error = err instanceof Error ? err.message : String(err);
        log(`${scenario.name} broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        for (const w of await bench.workers().catch(() => [])) {
          if (w.tail.length) log(`worker ${w.name} last lines:\n${w.tail.slice(-10).join('\n')}`);
        }
      }
      // Each scenario isolated: whatever it left open (a failure midway, workflows it kept) cannot count in the next.
      const left = await bench.isolate().catch((err) => {
        log(`isolation after ${scenario.name} failed: ${String(err)}`);
        return 0;
      });
      if (left)
        report.notes.push(`${left} workflow(s) were still open at its end: terminated, their jobs closed, before the next scenario`);
      report.seconds = (Date.now() - t0) / 1000;
      reports.push(report);
      log(`${scenario.name} done in ${report.seconds.toFixed(0)} s`);
      onReport(reports);
      if (kind === 'dev' && scenario.leavesServerBusy) {
        await cleanups.run();
        bench = undefined;
      }
    }
  } finally {
    await cleanups.run();
  }
  return reports;
}

async function main(): Promise<number> {
  const { chosen, servers } = parseOptions();
  let cleanups = new Cleanups(log);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      log(`${signal}: stopping workers, simulators, Temporal and dropping the database ...`);
      void cleanups.run().finally(() => process.exit(130));
    });
  }

  const started = Date.now();
  // The figures are only as good as the machine is quiet: say how busy it was.
  const loadAtStart = os.loadavg()[0]!;
  const columns: ReportColumn[] = [];
  const file = servers.length > 1 ? CLUSTER_RESULTS_FILE : RESULTS_FILE;
  const label = (kind: TemporalKind) => (servers.length > 1 ? TEMPORAL_KINDS[kind] : 'reelflow');
  const context = (cols: readonly ReportColumn[], partial: string | null) => {
    const totalS = ((Date.now() - started) / 1000).toFixed(0);
    const servedBy =
      servers.length > 1
        ? 'Temporal dev server (in memory), then Temporal server 1.29.1 on PostgreSQL (one pass after the other)'
        : 'Temporal dev server (in memory)';
    return [
      ...(partial ? [partial] : []),
      `${new Date().toISOString()}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}`,
      `${servedBy}, PostgreSQL, simulated providers, 2 worker processes, poll interval ${POLL_INTERVAL_MS} ms, KIE callbacks on`,
      `load average (1 min) ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0]!.toFixed(2)} ${partial ? 'now' : 'at end'}`,
      ...(servers.length > 1
        ? [...cols.map((c) => `${c.label}: ${scenarioTimes(c)}`), `whole run ${totalS} s`]
        : [`scenarios: ${scenarioTimes(cols[0]!)}; whole run ${totalS} s`]),
    ];
  };
  for (const kind of servers) {
    if (interrupted) break;
    cleanups = new Cleanups(log);
    // Written after every scenario: a long run stopped midway (Ctrl-C, a lost session) keeps what it measured.
    const onReport = (reports: readonly ScenarioReport[]) => {
      const done = [...columns, { label: label(kind), reports: [...reports] }];
      const count = done.reduce((n, c) => n + c.reports.length, 0);
      const partial = `**partial**: written after ${count} of ${chosen.length * servers.length} scenario runs; a finished run replaces it`;
      fs.writeFileSync(file, markdownReport(done, context(done, partial)));
    };
    const reports = await runPass(kind, chosen, cleanups, () => interrupted, onReport).catch((err: unknown) => {
      // One server failing to start must not throw away the other's figures.
      if (servers.length === 1) throw err;
      const message = `set-up failed: ${err instanceof Error ? err.message : String(err)}`;
      log(`${TEMPORAL_KINDS[kind]} ${message}`);
      return chosen.map((s): ScenarioReport => ({ scenario: s.name, figures: [], notes: [], seconds: 0, error: message }));
    });
    // A single pass keeps the column name results.md always had.
    columns.push({ label: label(kind), reports });
  }
  if (interrupted) return 130;

  const final = context(columns, null);
  console.log(`\n${final.join('\n')}\n\n${textReport(columns)}`);
  fs.writeFileSync(file, markdownReport(columns, final));
  log(`written to ${path.relative(process.cwd(), file)}`);
  return columns.some((c) => c.reports.some((r) => r.error)) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
