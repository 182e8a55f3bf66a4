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
      out.push({ pid: Number(name), ppid: Number(f[1]), comm, cpuTicks: Number(f[11]) + Number(f[12]) });
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

/** The PostgreSQL server's processes (postmaster and backends), whoever started them. */
export function postgresPids(): number[] {
  return readProcs()
    .filter((p) => p.comm === 'postgres' || p.comm === 'postmaster')
    .map((p) => p.pid);
}

/** CPU seconds (user + system) used so far by each of these processes. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const want = new Set(pids);
  return new Map(readProcs().flatMap((p) => (want.has(p.pid) ? [[p.pid, p.cpuTicks / TICKS] as const] : [])));
}

/**
 * CPU seconds used between two readings. A process that started in between counts from zero; one that ended
 * in between is lost (PostgreSQL backends come and go with connections: a small undercount, never negative).
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
