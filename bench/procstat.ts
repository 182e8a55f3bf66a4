/**
 * What a process costs, read from /proc (Linux): CPU seconds and resident memory of a process and its
 * descendants (a worker is tsx's node under npm's shell), PostgreSQL's server processes, and Temporal's
 * own request counter from its Prometheus endpoint. For the backlog scenario's idle-cost figures.
 */
import fs from 'node:fs';

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux this runs on. */
const TICKS = 100;

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cpuTicks: number;
  /** CPU of its children that ended and were waited for (cutime + cstime). */
  reapedTicks: number;
}

function readProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm may hold spaces and parentheses: the fields after it start at the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.push({
        pid: Number(name),
        ppid: Number(f[1]),
        comm,
        cpuTicks: Number(f[11]) + Number(f[12]),
        reapedTicks: Number(f[13]) + Number(f[14]),
      });
    } catch {
      // Gone between readdir and read.
    }
  }
  return out;
}

/** pid and all its descendants. */
export function processTree(pid: number): number[] {
  const procs = readProcs();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** What a PostgreSQL process is, by the title it gives itself (`postgres: 15/main: autovacuum worker db`, ...). */
export const PG_ROLES = ['backends', 'autovacuum', 'background', 'ended'] as const;
export type PgRole = (typeof PG_ROLES)[number];

function pgRole(pid: number): PgRole {
  let title = '';
  try {
    title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // Gone: counted by its parent once reaped.
  }
  if (title.includes('autovacuum')) return 'autovacuum';
  // A client's session: "postgres: 15/main: <user> <db> 127.0.0.1(54321) idle" (or [local] on the socket).
  if (/\(\d+\)|\[local\]/.test(title)) return 'backends';
  return 'background'; // the postmaster, checkpointer, walwriter, background writer, launchers
}

/**
 * CPU seconds so far of every PostgreSQL process, keyed `<role>:<pid>`, and `ended:<postmaster>`: what the
 * postmaster's children that ended used, over their whole lives (autovacuum workers come and go within a minute;
 * pool connections close after 10 s idle). Without that key a process that ended between two readings was lost.
 */
export function postgresCpu(): Map<string, number> {
  const out = new Map<string, number>();
  // The PostgreSQL server's processes, whoever started them.
  for (const p of readProcs().filter((p) => p.comm === 'postgres' || p.comm === 'postmaster')) {
    out.set(`${pgRole(p.pid)}:${p.pid}`, p.cpuTicks / TICKS);
    if (p.reapedTicks) out.set(`ended:${p.pid}`, p.reapedTicks / TICKS);
  }
  return out;
}

/**
 * postgresCpu's growth between two readings, by role. A process that ended in between counts under `ended` for
 * the part of its life after the first reading: its whole life (reaped) less what it had used by then. A pool
 * connection closed after a busy fill counted its whole fill there before (62 % of a core in one run's window).
 */
export function postgresByRole(before: Map<string, number>, after: Map<string, number>): Record<PgRole, number> {
  const out = Object.fromEntries(PG_ROLES.map((r) => [r, 0])) as Record<PgRole, number>;
  for (const [key, secs] of after) out[key.split(':')[0] as PgRole] += secs - (before.get(key) ?? 0);
  for (const [key, secs] of before) if (!after.has(key) && !key.startsWith('ended:')) out.ended -= secs;
  return out;
}

/** CPU seconds (user + system) used so far by each of these processes. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const want = new Set(pids);
  return new Map(readProcs().flatMap((p) => (want.has(p.pid) ? [[p.pid, p.cpuTicks / TICKS] as const] : [])));
}

/**
 * CPU seconds used between two readings. A process that started in between counts from zero; one that ended
 * in between is lost (a small undercount, never negative; PostgreSQL's, whose backends come and go, are counted by
 * postgresByRole instead).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, secs] of after) sum += secs - (before.get(pid) ?? 0);
  return sum;
}

/** Resident memory of these processes together, in MB. */
export function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // Gone.
    }
  }
  return kb / 1024;
}

/** Temporal's frontend requests so far (service_requests) by operation; empty without a metrics endpoint. */
export async function temporalRequests(metricsUrl: string | undefined): Promise<Map<string, number>> {
  const byOperation = new Map<string, number>();
  if (!metricsUrl) return byOperation;
  try {
    const text = await (await fetch(metricsUrl)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('service_requests{') && !line.startsWith('service_requests ')) continue;
      const operation = /operation="([^"]*)"/.exec(line)?.[1] ?? '?';
      byOperation.set(operation, (byOperation.get(operation) ?? 0) + Number(line.split(' ').at(-1)));
    }
  } catch {
    // No endpoint: nothing counted.
  }
  return byOperation;
}

/** Per key, how much `after` grew over `before`, per second, the biggest first (zero growth left out). */
export function ratesBetween(before: Map<string, number>, after: Map<string, number>, secs: number): Array<[string, number]> {
  return [...after]
    .map(([k, v]): [string, number] => [k, (v - (before.get(k) ?? 0)) / secs])
    .filter(([, r]) => r > 0)
    .sort((a, b) => b[1] - a[1]);
}
