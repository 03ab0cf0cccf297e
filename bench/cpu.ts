/**
 * Where a side's CPU went, read from /proc (Linux) before and after it runs: this process's
 * main thread (sandbar and the ceiling app both serve on it), the load worker's thread, and
 * the bench's own PostgreSQL cluster: its postmaster and every child of it (backends,
 * autovacuum and the other background workers), never another cluster on the machine.
 * A ratio says how far the product is from its ceiling; these say in which of the three the
 * product's extra microseconds per request are. On a 2-core machine all three share the
 * cores, so it is their sum per request, not any one of them, that bounds a rate.
 *
 * Threads other than these two (V8's helpers, libuv's pool) are left out: they stay under a
 * microsecond per request here. Off Linux nothing is read; with a DATABASE_URL server the
 * postgres processes may be elsewhere or serve others, so they are not read.
 *
 * PostgreSQL's background work (autovacuum, the checkpointer, the WAL writer) counts against
 * whichever side runs while it happens; the bench vacuums and checkpoints before each
 * workload so that little of it is left over from the one before.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface CpuSeconds {
  main: number;
  load: number;
  postgres?: number;
}

/** Clock ticks per second of /proc's utime and stime; 100 on every Linux this runs on. */
const TICKS = 100;

/**
 * The parent pid and the user+system ticks of one /proc stat file, or undefined if it is gone.
 * With `reapedChildren`, the ticks of its children that have exited and been waited for are added.
 */
function readStat(file: string, reapedChildren = false): { ppid: number; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The comm may hold spaces and parentheses: the fields start after its last ')', at field 3 (state).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return { ppid: Number(fields[1]), ticks: reapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own };
}

/** The pid in `dataDir`'s postmaster.pid (its first line), or undefined without one. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CPU seconds used so far; undefined where /proc cannot be read. `loadThreadId` is the
 * OS thread id of the load worker (what its own `/proc/thread-self` names); `postmaster` the
 * pid of the cluster whose processes count as PostgreSQL (none: no PostgreSQL figure).
 */
export function cpuNow(loadThreadId: number | undefined, postmaster: number | undefined): CpuSeconds | undefined {
  // /proc/self/stat sums every thread; the main thread alone is the task with the process's id.
  const mainThread = readStat(`/proc/self/task/${process.pid}/stat`);
  if (!mainThread) return undefined;
  const load = loadThreadId === undefined ? undefined : readStat(`/proc/self/task/${loadThreadId}/stat`);
  const seconds: CpuSeconds = { main: mainThread.ticks / TICKS, load: (load?.ticks ?? 0) / TICKS };
  if (postmaster === undefined) return seconds;
  // The children first, then the postmaster with the ticks of its children that have exited
  // and been reaped: a backend or autovacuum worker that exits between two readings keeps its
  // ticks in the sum instead of taking them out of it (a negative figure). One that exits
  // during a reading may be counted twice; the pools' connections live for the whole run.
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a process id
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat?.ppid === postmaster) ticks += stat.ticks;
  }
  const own = readStat(`/proc/${postmaster}/stat`, true);
  if (own) seconds.postgres = (ticks + own.ticks) / TICKS;
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
