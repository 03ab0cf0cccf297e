import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from 'pino';

/**
 * Keeps a streaming server's memory flat (issue 5: a stream of 1,000,000 items
 * grows RSS by less than 50 MB).
 *
 * A stream moves every item through Buffers twice: postgres.js reads the rows
 * into socket-sized Buffers, and each page written to the client is one more.
 * Their bytes live outside the V8 heap ("external memory"), and V8 starts a
 * full collection for them only once 64 MB of it has piled up since the last
 * one; the per-row objects meanwhile reach the old generation. Measured on a
 * 1M-item download in a fresh server process: RSS grew 87–103 MB, with 53 MB
 * of it dead ArrayBuffers.
 *
 * So the process watches its external memory (v8.getHeapStatistics(), a
 * fraction of a microsecond, every SAMPLE_MS) and asks for a full collection
 * once it has grown by `slackBytes` since the last collection's floor. The
 * floor is what survived, so memory that is really in use (a 10 MB body being
 * parsed) raises the floor instead of causing a collection on every sample.
 * Measured on the same download with 16 MB of slack (the default): RSS growth
 * 30–35 MB, later streams 0–5 MB, ~10 % more stream time (ADR 10).
 *
 * One per process, however many services it runs (tests start several).
 */
const SAMPLE_MS = 10;

/**
 * V8 also counts Buffer memory allocated since its last full collection against the old
 * generation's limit, which it sets from the live heap times a growing factor that it picks
 * between 1.1 and 4 from its own speed estimates. A streaming server's Buffers make it pick
 * low: for this server's ~25 MB heap the limit was a few MB away, so a stream (~600 kB of
 * Buffers a 1,000-item page) set off one of V8's own full collections every ~16 pages, before
 * the governor's slack was reached: 17 % of a paging server's main thread (trace-gc, 1,000
 * pages: 57-61 full collections, 0.7 s). Pinned at 4, V8's own maximum, external memory is left
 * to the governor: a separate server paged 195k-223k rows/s with V8's choice, 241k-254k pinned
 * at 4 (235k-251k at 2), p90 per page 7.7-9.5 ms -> ~5 ms (ADR 10). Applies to the whole
 * process while a governor runs: between full collections the heap may grow to four times
 * what is live, as V8 itself allows when it picks its maximum.
 */
const HEAP_GROWING_PERCENT = 300;

type Gc = () => void;

interface Governor {
  users: number;
  timer: NodeJS.Timeout;
  check(): void;
  setsGrowing: boolean;
}

let governor: Governor | undefined;
let collections = 0;

/**
 * Runs the governor's check now, if it runs in this process. Streams call it after each
 * fetch they pass on: on a busy machine the 10 ms timer fires late, and a stream can pile
 * up many megabytes meanwhile. Costs well under a microsecond.
 */
export function checkExternalMemory(): void {
  governor?.check();
}

/** Full collections the governor has asked for in this process (the metric sandbar_gc_forced_total). */
export function forcedCollections(): number {
  return collections;
}

/** Whether `node …` was given V8's growing factor itself (with dashes or underscores, as V8 takes it): then it wins. */
export function growingFactorOnCommandLine(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
}

function exposeGc(): Gc {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed) return exposed;
  // The documented-as-unsupported but long-standing way to reach V8's gc() without a command-line
  // flag; `node --expose-gc` makes it unnecessary. Only the new context's global gets it.
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as Gc;
}

export interface ExternalMemoryGovernor {
  stop(): void;
}

/** Starts (or joins) the process's governor; `slackBytes` 0 disables it. */
export function startExternalMemoryGovernor(slackBytes: number, log: Pick<Logger, 'warn'>): ExternalMemoryGovernor {
  if (slackBytes <= 0) return { stop: () => undefined };
  if (!governor) {
    let gc: Gc;
    try {
      gc = exposeGc();
    } catch (error) {
      log.warn({ err: error }, 'cannot reach V8 gc(); streams may grow RSS by up to ~100 MB before V8 collects');
      return { stop: () => undefined };
    }
    // Read whenever V8 sets a new limit, so it applies from the next collection on; like
    // --expose-gc above, `node --heap-growing-percent=…` on the command line takes precedence.
    const setsGrowing = !growingFactorOnCommandLine(process.execArgv);
    if (setsGrowing) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    let floor = v8.getHeapStatistics().external_memory;
    const check = () => {
      const external = v8.getHeapStatistics().external_memory;
      // A collection V8 ran by itself lowers the floor too.
      if (external < floor) floor = external;
      if (external - floor < slackBytes) return;
      gc();
      collections += 1;
      floor = v8.getHeapStatistics().external_memory;
    };
    const g: Governor = { users: 0, timer: setInterval(check, SAMPLE_MS), check, setsGrowing };
    g.timer.unref();
    governor = g;
  }
  const g = governor;
  g.users += 1;
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      g.users -= 1;
      if (g.users === 0 && governor === g) {
        clearInterval(g.timer);
        // 0: V8 picks the factor again, as without a governor.
        if (g.setsGrowing) v8.setFlagsFromString('--heap-growing-percent=0');
        governor = undefined;
      }
    },
  };
}
