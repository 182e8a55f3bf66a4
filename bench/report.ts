/**
 * The figures table: printed to the terminal and written as markdown, same rows in both.
 * One value column per Temporal server the scenarios ran on (`--cluster` adds the cluster's beside the dev server's).
 */

export interface Figure {
  scenario: string;
  metric: string;
  value: string;
  target: string;
  /** The BullMQ peer's figure, measured in this run on the same trace (bench/peer/bullmq.ts); '-' where there is none. */
  bullmq: string;
  /** The BullMQ figure was measured elsewhere and typed in: the table says so. */
  bullmqTypedIn?: boolean;
  /** true/false against the target; null for figures without one (context). */
  met: boolean | null;
}

export interface ScenarioReport {
  scenario: string;
  figures: Figure[];
  /** How the figure came about: breakdowns, configuration, anything that explains a miss. */
  notes: string[];
  seconds: number;
  error?: string;
}

/** The reports of one bench pass, headed by the server they ran on. */
export interface ReportColumn {
  label: string;
  reports: readonly ScenarioReport[];
}

const bullmqCell = (f: Figure) => (f.bullmqTypedIn && f.bullmq !== '-' ? `${f.bullmq} (typed in)` : f.bullmq);

function header(columns: readonly ReportColumn[]): string[] {
  return ['scenario', 'metric', ...columns.map((c) => c.label), 'target', 'BullMQ', ''];
}

/** The last cell: 'ok' when every column meets the target; otherwise which columns miss it. */
function verdict(columns: readonly ReportColumn[], figures: ReadonlyArray<Figure | undefined>): string {
  const judged = figures.map((f, i) => ({ f, label: columns[i]!.label })).filter(({ f }) => f && f.met !== null);
  if (!judged.length) return '';
  const missed = judged.filter(({ f }) => !f!.met);
  if (!missed.length) return 'ok';
  return columns.length === 1 ? 'MISS' : `MISS (${missed.map((m) => m.label).join(', ')})`;
}

/** Rows keyed by (scenario, metric), in the order they were first recorded; a figure one pass lacks shows '-'. */
function rows(columns: readonly ReportColumn[]): string[][] {
  const scenarios = [...new Set(columns.flatMap((c) => c.reports.map((r) => r.scenario)))];
  const out: string[][] = [];
  for (const scenario of scenarios) {
    const reports = columns.map((c) => c.reports.find((r) => r.scenario === scenario));
    const metrics = [...new Set(reports.flatMap((r) => r?.figures.map((f) => f.metric) ?? []))];
    for (const metric of metrics) {
      const figures = reports.map((r) => r?.figures.find((f) => f.metric === metric));
      const any = figures.find(Boolean)!;
      out.push([scenario, metric, ...figures.map((f) => f?.value ?? '-'), any.target, bullmqCell(any), verdict(columns, figures)]);
    }
    if (reports.some((r) => r?.error)) {
      const cells = reports.map((r) => r?.error?.split('\n')[0]!.slice(0, 120) ?? '');
      out.push([scenario, 'ERROR', ...cells, '', '', 'ERROR']);
    }
  }
  return out;
}

function textTable(columns: readonly ReportColumn[]): string {
  const head = header(columns);
  const all = [head, ...rows(columns)];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

function notesText(reports: readonly ScenarioReport[], bullet: string): string {
  return reports
    .filter((r) => r.notes.length)
    .map((r) => [`${r.scenario} (${r.seconds.toFixed(0)} s):`, ...r.notes.map((n) => `${bullet}${n}`)].join('\n'))
    .join('\n\n');
}

/** One notes section per column, headed by its label when there is more than one. */
function notesSections(columns: readonly ReportColumn[], heading: (label: string) => string, bullet: string): string[] {
  if (columns.length === 1) return [heading(''), notesText(columns[0]!.reports, bullet)];
  return columns.flatMap((c) => [heading(c.label), notesText(c.reports, bullet)]);
}

export function textReport(columns: readonly ReportColumn[]): string {
  const notes = notesSections(columns, (label) => (label ? `notes, ${label}:` : ''), '  - ').filter(Boolean);
  return `${textTable(columns)}\n\n${notes.join('\n\n')}\n`;
}

export function markdownReport(columns: readonly ReportColumn[], context: string[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const head = header(columns);
  const table = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows(columns).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const notes = notesSections(columns, (label) => (label ? `## Notes: ${label}` : '## Notes'), '- ');
  return ['# Reelflow bench results', '', ...context.map((c) => `- ${c}`), '', ...table, '', ...notes.flatMap((n) => [n, ''])].join('\n');
}
