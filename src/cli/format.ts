/**
 * What the CLI prints. Titles, player names and errors come from competitor
 * videos, models and API callers: an ANSI escape or a carriage return in one
 * could rewrite the operator's terminal (hide a line, fake a status), so every
 * such text goes through terminalSafe before it is printed.
 */
import type { JobWait } from '../gate/capacity';

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

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time: HH:MM today, with the date when it is another day. */
export function clockTime(at: Date, now = new Date()): string {
  const hhmm = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return hhmm;
  return `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())} ${hhmm}`;
}

/** "in 4 min", "in 2 h 10 min", "in 3 d 4 h", "now"; "5 min ago" for the past. */
export function fromNow(at: Date, now = new Date()): string {
  const diff = at.getTime() - now.getTime();
  const min = Math.round(Math.abs(diff) / 60_000);
  if (min === 0) return 'now';
  const h = Math.floor(min / 60);
  const d = Math.floor(h / 24);
  const text = d >= 2 ? `${d} d ${h % 24} h` : h ? `${h} h${min % 60 ? ` ${min % 60} min` : ''}` : `${min} min`;
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

/** What a waiting job waits for, in words (the binding constraint of its ETA, src/gate/eta.ts). */
export function waitingForText(w: Pick<JobWait, 'waitingFor' | 'waitingForQuota'>): string {
  switch (w.waitingFor) {
    case 'now':
      return 'nothing in the way';
    case 'slot':
      return 'waiting for a free slot';
    case 'spacing':
      return "waiting for the provider's start spacing";
    case 'quota':
      return `waiting for quota ${w.waitingForQuota}`;
    case 'budget':
      return `waiting for budget ${w.waitingForQuota}`;
    case 'parked':
      return `waiting for quota ${w.waitingForQuota} (parked after the provider's quota error)`;
    case 'schedule':
      return 'scheduled';
    default:
      return '';
  }
}

/**
 * "starts ~14:05 (in 4 min; waiting for quota instagram_posts)" for a job in
 * a line; '' for one that is not waiting. `short` drops the words for a table cell.
 */
export function describeWait(w: JobWait, now = new Date(), short = false): string {
  if (!w.waitingFor) return '';
  if (!w.eta) {
    const what = w.waitingFor === 'budget' ? 'budget' : 'quota';
    return short
      ? `never (${what} ${w.waitingForQuota})`
      : `never as configured: its cost exceeds ${what} ${w.waitingForQuota}'s whole limit`;
  }
  const why = waitingForText(w);
  if (short) {
    const what = w.waitingFor === 'now' ? '' : `; ${w.waitingFor}${w.waitingForQuota ? ` ${w.waitingForQuota}` : ''}`;
    return `~${clockTime(w.eta, now)} ${fromNow(w.eta, now)}${what}`;
  }
  return `starts ~${clockTime(w.eta, now)} (${fromNow(w.eta, now)}; ${why})`;
}
