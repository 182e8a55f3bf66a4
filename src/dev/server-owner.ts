/**
 * Who owns a dev server that runs in a process group of its own (the demo's). Such a server survives its owner by
 * design (a Ctrl-C to the terminal must not reach it before the workers hand their jobs back), so when the owner is
 * killed outright (kill -9, a closed terminal) nobody is left to stop it. The owner writes its pid and the server's
 * to a file; the next run that finds the server answering, with that owner gone, adopts it and stops it at its end.
 * A server someone else runs (`npm run temporal` in another terminal) has no record, or a live owner: left alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sleep } from '../shared/sleep';

interface OwnerRecord {
  serverPid: number;
  ownerPid: number;
  port: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Still the dev server we recorded, not another program that was given its pid since (Linux's /proc). */
function isDevServer(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('start-dev');
  } catch {
    return false;
  }
}

function read(file: string): OwnerRecord | null {
  try {
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OwnerRecord>;
    return Number.isInteger(rec.serverPid) && Number.isInteger(rec.ownerPid) && Number.isInteger(rec.port) ? (rec as OwnerRecord) : null;
  } catch {
    return null;
  }
}

/** This process owns the server `serverPid` on `port`. */
export function recordOwner(file: string, serverPid: number, port: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ serverPid, ownerPid: process.pid, port } satisfies OwnerRecord));
}

/** Removes the record if it still names the server `serverPid` (a later run may have written its own). */
export function forgetOwner(file: string, serverPid: number): void {
  if (read(file)?.serverPid === serverPid) fs.rmSync(file, { force: true });
}

/**
 * The pid of the server answering on `port` when the record says its owner is gone, now recorded as ours; null when
 * there is no record, its owner lives, or the pid is no longer that dev server.
 */
export function adoptOrphan(file: string, port: number): number | null {
  const rec = read(file);
  if (!rec || rec.port !== port || isAlive(rec.ownerPid) || !isAlive(rec.serverPid) || !isDevServer(rec.serverPid)) return null;
  recordOwner(file, rec.serverPid, port);
  return rec.serverPid;
}

/** Sends `sig` to `pid`, if it still runs. */
export function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone (or, a zombie nobody reaps, 2 s after the kill). */
export async function stopPid(pid: number, graceMs = 5_000): Promise<void> {
  signalPid(pid, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < killAt) await sleep(100);
  if (!isAlive(pid)) return;
  signalPid(pid, 'SIGKILL');
  for (const until = Date.now() + 2_000; isAlive(pid) && Date.now() < until;) await sleep(100);
}

/**
 * Resolves once `pid` (not our child: no exit event reaches us) is gone, looking every `everyMs`; the timer does not
 * hold the process up.
 */
export function whenGone(pid: number, everyMs = 500): Promise<{ code: null; signal: null }> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (isAlive(pid)) return;
      clearInterval(timer);
      resolve({ code: null, signal: null });
    }, everyMs);
    timer.unref();
  });
}
