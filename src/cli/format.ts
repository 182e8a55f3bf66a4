/**
 * What the CLI prints. Titles, player names and errors come from competitor
 * videos, models and API callers: an ANSI escape or a carriage return in one
 * could rewrite the operator's terminal (hide a line, fake a status), so every
 * such text goes through terminalSafe before it is printed.
 */

/** ANSI/VT escape sequences: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-character ESC sequences, plus their 8-bit C1 forms. */
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching terminal control characters is the point
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-Z\\-_]/g;
/** C0 controls (tab and newline included: a table cell is one line), DEL and C1 controls. */
// eslint-disable-next-line no-control-regex -- matching terminal control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The text with escape sequences removed and any other control character replaced by a space. */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, ' ');
}

/** Plain-text table for the terminal; every cell is made terminalSafe. */
export function printTable(rows: Array<Record<string, unknown>>): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => terminalSafe(v instanceof Date ? v.toISOString() : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}
