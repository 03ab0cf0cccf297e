import test from 'ava';
import { growingFactorOnCommandLine } from '../../src/memory.ts';

test("the governor leaves V8's growing factor alone when the command line sets it, in either spelling", (t) => {
  t.true(growingFactorOnCommandLine(['--heap-growing-percent=50']));
  t.true(growingFactorOnCommandLine(['--expose-gc', '--heap_growing_percent=50']));
  t.true(growingFactorOnCommandLine(['--heap_growing-percent', '50']));
  t.false(growingFactorOnCommandLine([]));
  t.false(growingFactorOnCommandLine(['--import=tsx', '--max-old-space-size=512']));
  t.false(growingFactorOnCommandLine(['--heap-growing-percentage=50']));
});
