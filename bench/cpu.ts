/**
 * Where a side's CPU went, read from /proc (Linux) before and after it runs: this process's
 * main thread (sandbar and the ceiling app both serve on it), the load worker's thread, and
 * every process named `postgres` (the embedded cluster's backends and background workers).
 * A ratio says how far the product is from its ceiling; these say in which of the three the
 * product's extra microseconds per request are. On a 2-core machine all three share the
 * cores, so it is their sum per request, not any one of them, that bounds a rate.
 *
 * Threads other than these two (V8's helpers, libuv's pool) are left out: they stay under a
 * microsecond per request here. Off Linux nothing is read; with a DATABASE_URL server the
 * postgres processes may be elsewhere or serve others, so they are read only when asked.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSeconds {
  main: number;
  load: number;
  postgres?: number;
}

/** Clock ticks per second of /proc's utime and stime; 100 on every Linux this runs on. */
const TICKS = 100;

/**
 * The comm and the user+system ticks of one /proc stat file, or undefined if it is gone. With
 * `reapedChildren`, the ticks of its children that have exited and been waited for are added.
 */
function readStat(file: string, reapedChildren = false): { comm: string; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The comm may hold spaces and parentheses: the fields start after its last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return { comm: text.slice(text.indexOf('(') + 1, close), ticks: reapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own };
}

/**
 * The CPU seconds used so far; undefined where /proc cannot be read. `loadThreadId` is the
 * OS thread id of the load worker (what its own `/proc/thread-self` names).
 */
export function cpuNow(loadThreadId: number | undefined, withPostgres: boolean): CpuSeconds | undefined {
  const main = readStat('/proc/self/stat');
  if (!main) return undefined;
  // /proc/self/stat sums every thread; the main thread alone is the task with the process's id.
  const mainThread = readStat(`/proc/self/task/${process.pid}/stat`);
  const load = loadThreadId === undefined ? undefined : readStat(`/proc/self/task/${loadThreadId}/stat`);
  const seconds: CpuSeconds = { main: (mainThread?.ticks ?? 0) / TICKS, load: (load?.ticks ?? 0) / TICKS };
  if (withPostgres) {
    // A backend or autovacuum worker that exits between two readings would take its ticks out of
    // the sum (a negative figure): the postmaster's reaped-children ticks keep them in it.
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (entry.charCodeAt(0) > 57) continue; // not a process id
      const stat = readStat(`/proc/${entry}/stat`, true);
      if (stat?.comm === 'postgres') ticks += stat.ticks;
    }
    seconds.postgres = ticks / TICKS;
  }
  return seconds;
}

/** b − a, component by component. */
export function cpuSpent(a: CpuSeconds, b: CpuSeconds): CpuSeconds {
  return {
    main: b.main - a.main,
    load: b.load - a.load,
    ...(a.postgres !== undefined && b.postgres !== undefined ? { postgres: b.postgres - a.postgres } : {}),
  };
}

/** Adds `b` into `into`. */
export function addCpu(into: CpuSeconds, b: CpuSeconds): void {
  into.main += b.main;
  into.load += b.load;
  if (b.postgres !== undefined) into.postgres = (into.postgres ?? 0) + b.postgres;
}
