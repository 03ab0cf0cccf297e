/**
 * Times the sandbox functions on a sandbox/parent pair of 10,000 collections
 * each, 1,000 differing each way (the parent's 1,000 sandbox-less collections
 * hold 10 items each, which the merge deletes):
 *
 *   node --import tsx bench/sync-collections.ts
 *
 * Uses the server at DATABASE_URL (creating and dropping a scratch database on
 * it), else starts an embedded cluster in a temporary directory, as test/run.ts
 * does. Options: ROUNDS (default 3), COLLECTIONS (10000), DIFFERING (1000).
 * Each step is one call of one app.* function whose body is a fixed number of
 * set-based statements (no loops; checked below), so its time grows with the
 * rows, not with round trips. The one exception is what a merge calls before
 * it deletes: app.lock_collections_for_deletion locks the doomed collections
 * one by one, since each must be locked under its own advisory lock and at
 * most one may be held at a time (ADR 12's amendment): ~6 µs a collection,
 * 46.9 → 53.2 ms for this merge of 1,000 deleted collections (stop 20).
 */
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { createLogger } from '../src/log.ts';
import { openBenchDatabase } from './database.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const COLLECTIONS = Number(process.env.COLLECTIONS ?? 10_000);
const DIFFERING = Number(process.env.DIFFERING ?? 1_000);
const ITEMS_PER_DOOMED = 10;
const DATABASE = `sandbar_bench_${process.pid}`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await fn();
  return [performance.now() - started, result];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const database = await openBenchDatabase(DATABASE, log);
let sql: postgres.Sql | undefined;
try {
  sql = postgres(database.url, { max: 1, onnotice: () => undefined });

  const loops = await sql`
    select proname from pg_proc
     where pronamespace = 'app'::regnamespace
       and proname in ('clone_collections_from_parent', 'sync_collections', 'merge_preview', 'merge_sandbox', 'create_sandbox')
       and prosrc ~* '\\mloop\\M'`;
  if (loops.length > 0) throw new Error(`row-by-row loops in: ${loops.map((r) => r.proname).join(', ')}`);

  const [{ id: ownerId }] = await sql<[{ id: string }]>`insert into app.users (email) values ('bench@example.test') returning id`;
  const timings: Record<string, number[]> = { provision: [], clone: [], cloneAgain: [], preview: [], merge: [], mergeAgain: [] };

  for (let round = 0; round < ROUNDS; round++) {
    const [{ id: parentId }] = await sql<[{ id: string }]>`select id from app.create_project(${`bench parent ${round}`}, ${ownerId})`;
    await sql`insert into app.collections (project_id, name)
              select ${parentId}, 'c-' || lpad(i::text, 6, '0') from generate_series(1, ${COLLECTIONS}::int) i`;
    // The first DIFFERING collections will be missing from the sandbox: give them items for the merge to delete.
    await sql`insert into app.items (collection_id, project_id, key, value)
              select c.id, c.project_id, 'k' || k, repeat('x', 200)
                from app.collections c cross join generate_series(1, ${ITEMS_PER_DOOMED}::int) k
               where c.project_id = ${parentId} and c.name <= ${`c-${String(DIFFERING).padStart(6, '0')}`}`;
    await sql`vacuum analyze app.collections`;
    await sql`vacuum analyze app.items`;

    // Provisioning (project + members + clone of COLLECTIONS names, one transaction).
    const [provisionMs, [sandbox]] = await timed(() => sql!<[{ id: string }]>`select id from app.create_sandbox(${parentId}, 'bench sandbox', ${ownerId})`);
    timings.provision!.push(provisionMs);

    // The clone alone, into a sandbox created without one.
    const [{ id: bare }] = await sql<[{ id: string }]>`insert into app.projects (name, parent_id) values ('bare', ${parentId}) returning id`;
    const [cloneMs, [clone]] = await timed(() => sql!<[{ n: number }]>`select app.clone_collections_from_parent(${bare}) as n`);
    if (clone.n !== COLLECTIONS) throw new Error(`clone created ${clone.n}`);
    timings.clone!.push(cloneMs);
    const [cloneAgainMs, [again]] = await timed(() => sql!<[{ n: number }]>`select app.clone_collections_from_parent(${bare}) as n`);
    if (again.n !== 0) throw new Error(`second clone created ${again.n}`);
    timings.cloneAgain!.push(cloneAgainMs);

    // Diverge: the sandbox loses DIFFERING names and gains DIFFERING new ones.
    await sql`delete from app.collections where project_id = ${sandbox.id} and name <= ${`c-${String(DIFFERING).padStart(6, '0')}`}`;
    await sql`insert into app.collections (project_id, name)
              select ${sandbox.id}, 'n-' || lpad(i::text, 6, '0') from generate_series(1, ${DIFFERING}::int) i`;
    await sql`vacuum analyze app.collections`;

    const [previewMs, preview] = await timed(() => sql!`select action, count(*)::int as n, sum(item_count)::int as items from app.merge_preview(${sandbox.id}, ${parentId}) group by action order by action`);
    timings.preview!.push(previewMs);
    const [mergeMs, merged] = await timed(() =>
      sql!.begin((tx) => tx`select action, count(*)::int as n, sum(item_count)::int as items from app.merge_sandbox(${sandbox.id}, ${parentId}) group by action order by action`),
    );
    timings.merge!.push(mergeMs);
    const [mergeAgainMs, mergedAgain] = await timed(() => sql!.begin((tx) => tx`select * from app.merge_sandbox(${sandbox.id}, ${parentId})`));
    timings.mergeAgain!.push(mergeAgainMs);
    if (mergedAgain.length !== 0) throw new Error('a second merge changed something');
    const [counts] = await sql`select
      (select count(*)::int from app.collections where project_id = ${parentId}) as parent,
      (select count(*)::int from app.collections where project_id = ${sandbox.id}) as sandbox`;
    console.log(
      `round ${round + 1}: preview ${JSON.stringify([...preview])}, merge ${JSON.stringify([...merged])}, ` +
        `collections after: parent ${counts!.parent}, sandbox ${counts!.sandbox}`,
    );
  }

  const label: Record<string, string> = {
    provision: `provision (create_sandbox, clones ${COLLECTIONS})`,
    clone: `clone_collections_from_parent (creates ${COLLECTIONS})`,
    cloneAgain: 'clone_collections_from_parent again (creates 0)',
    preview: `merge_preview (${DIFFERING} create + ${DIFFERING} delete)`,
    merge: `merge_sandbox (${DIFFERING} created, ${DIFFERING} deleted with ${DIFFERING * ITEMS_PER_DOOMED} items)`,
    mergeAgain: 'merge_sandbox again (no-op)',
  };
  console.log(`\n${ROUNDS} rounds, ${COLLECTIONS} collections per project, server: ${database.kind}`);
  for (const [key, ms] of Object.entries(timings)) {
    console.log(`${label[key]!.padEnd(72)} median ${median(ms).toFixed(1).padStart(8)} ms   (${ms.map((m) => m.toFixed(1)).join(', ')})`);
  }
} finally {
  await sql?.end({ timeout: 5 });
  await database.stop();
}
