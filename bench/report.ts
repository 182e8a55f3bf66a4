/** The figures table: printed to the terminal and written as markdown, same rows in both. */

export interface Figure {
  scenario: string;
  metric: string;
  value: string;
  target: string;
  /** The figure measured for the BullMQ implementation, where there is one. */
  bullmq: string;
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

const HEADER = ['scenario', 'metric', 'reelflow', 'target', 'BullMQ', ''] as const;

function rows(reports: readonly ScenarioReport[]): string[][] {
  const out: string[][] = [];
  for (const r of reports) {
    for (const f of r.figures) out.push([f.scenario, f.metric, f.value, f.target, f.bullmq, f.met === null ? '' : f.met ? 'ok' : 'MISS']);
    if (r.error) out.push([r.scenario, 'ERROR', r.error.split('\n')[0]!.slice(0, 120), '', '', 'ERROR']);
  }
  return out;
}

function textTable(reports: readonly ScenarioReport[]): string {
  const all = [[...HEADER], ...rows(reports)];
  const widths = HEADER.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
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

export function textReport(reports: readonly ScenarioReport[]): string {
  return `${textTable(reports)}\n\n${notesText(reports, '  - ')}\n`;
}

export function markdownReport(reports: readonly ScenarioReport[], context: string[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const table = [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows(reports).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  return [
    '# Reelflow bench results',
    '',
    ...context.map((c) => `- ${c}`),
    '',
    ...table,
    '',
    '## Notes',
    '',
    notesText(reports, '- '),
    '',
  ].join('\n');
}
