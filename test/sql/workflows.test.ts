/**
 * app.resolve_workflow, app.save_workflow, app.reset_workflow and
 * app.delete_workflow: every resolver outcome, optimistic locking, the
 * insert race, and what each raised SQLSTATE means over HTTP.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import postgres from 'postgres';
import { toHttpError } from '../../src/http/errors.ts';
import { saveWorkflow } from '../../sql/workflows.queries.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

async function project(): Promise<string> {
  const [row] = await d.sql`insert into app.projects (name) values (${`p-${randomUUID()}`}) returning id`;
  return row!.id as string;
}

type Json = Record<string, unknown>;

async function save(id: string, action: string, projectId: string, name: string, definition: Json, lockVersion: number | null = null) {
  const [row] = await d.sql`
    select * from app.save_workflow(${id}, ${action}, ${projectId}, ${name}, ${d.sql.json(definition as postgres.JSONValue)}, ${lockVersion}::int)`;
  return row!;
}

async function resolve(id: string, action: string, projectId: string, version: number | null = null) {
  const [row] = await d.sql`select * from app.resolve_workflow(${id}, ${action}, ${projectId}, ${version}::int)`;
  return row!;
}

async function snapshots(id: string) {
  return d.sql`select version, definition from app.workflow_snapshots where workflow_id = ${id} order by version`;
}

async function raised(t: { fail(m: string): void }, p: Promise<unknown>): Promise<postgres.PostgresError> {
  try {
    await p;
  } catch (error) {
    return error as postgres.PostgresError;
  }
  t.fail('expected an error');
  throw new Error('unreachable');
}

function expectError(t: any, error: postgres.PostgresError, code: string, message: string) {
  t.is(error.code, code, String(error.message));
  t.is(error.message, message);
}

test('new on an id with no row resolves to new and the save inserts version 1 with its snapshot', async (t) => {
  const p = await project();
  const id = randomUUID();
  t.like(await resolve(id, 'new', p), { kind: 'new', id, project_id: p, lock_version: null });
  const saved = await save(id, 'new', p, 'Intake', { steps: [1] });
  t.like(saved, { kind: 'new', id, project_id: p, name: 'Intake', lock_version: 1, deleted_at: null });
  t.deepEqual([...(await snapshots(id))], [{ version: 1, definition: { steps: [1] } }]);
});

test('new on an id this project already has reconciles to existing and the save updates it', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Intake', { v: 1 });
  t.like(await resolve(id, 'new', p), { kind: 'existing', id, lock_version: 1, definition: { v: 1 } });
  const again = await save(id, 'new', p, 'Intake', { v: 2 });
  t.like(again, { kind: 'existing', lock_version: 2 });
  const rows = await d.sql`select lock_version, definition from app.workflows where id = ${id}`;
  t.deepEqual([...rows], [{ lock_version: 2, definition: { v: 2 } }]);
  t.deepEqual([...(await snapshots(id))], [
    { version: 1, definition: { v: 1 } },
    { version: 2, definition: { v: 2 } },
  ]);
});

test('new or edit for an id in another project is wrong_project and leaves that row alone', async (t) => {
  const a = await project();
  const b = await project();
  const id = randomUUID();
  await save(id, 'new', a, 'Theirs', { owner: 'a' });
  for (const action of ['new', 'edit', 'version']) {
    expectError(t, await raised(t, resolve(id, action, b, 1)), 'SB403', 'wrong_project');
  }
  expectError(t, await raised(t, save(id, 'new', b, 'Mine', { owner: 'b' })), 'SB403', 'wrong_project');
  expectError(t, await raised(t, save(id, 'edit', b, 'Mine', { owner: 'b' }, 1)), 'SB403', 'wrong_project');
  expectError(t, await raised(t, d.sql`select * from app.reset_workflow(${id}, ${b})`), 'SB403', 'wrong_project');
  expectError(t, await raised(t, d.sql`select * from app.delete_workflow(${id}, ${b})`), 'SB403', 'wrong_project');
  const rows = await d.sql`select project_id, name, definition, lock_version, deleted_at from app.workflows where id = ${id}`;
  t.deepEqual([...rows], [{ project_id: a, name: 'Theirs', definition: { owner: 'a' }, lock_version: 1, deleted_at: null }]);
  t.is((await snapshots(id)).length, 1);
});

test('edit or version for an unknown id is workflow_not_found', async (t) => {
  const p = await project();
  const id = randomUUID();
  const e = await raised(t, resolve(id, 'edit', p));
  expectError(t, e, 'SB404', 'workflow_not_found');
  t.is(e.detail, `No workflow ${id} in project ${p}.`);
  expectError(t, await raised(t, resolve(id, 'version', p, 1)), 'SB404', 'workflow_not_found');
  expectError(t, await raised(t, save(id, 'edit', p, 'X', {}, 1)), 'SB404', 'workflow_not_found');
  expectError(t, await raised(t, d.sql`select * from app.reset_workflow(${id}, ${p})`), 'SB404', 'workflow_not_found');
  expectError(t, await raised(t, d.sql`select * from app.delete_workflow(${id}, ${p})`), 'SB404', 'workflow_not_found');
  t.is((await d.sql`select 1 from app.workflows where id = ${id}`).length, 0);
});

test('version returns that snapshot, and a missing one is snapshot_not_found', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Versions', { v: 'one' });
  await save(id, 'edit', p, 'Versions', { v: 'two' }, 1);
  t.like(await resolve(id, 'version', p, 1), { kind: 'version', version: 1, lock_version: 2, definition: { v: 'one' } });
  t.like(await resolve(id, 'version', p, 2), { kind: 'version', version: 2, definition: { v: 'two' } });
  for (const v of [0, 3, null]) {
    expectError(t, await raised(t, resolve(id, 'version', p, v)), 'SB404', 'snapshot_not_found');
  }
});

test('any other action is invalid_action, and a save cannot use version', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Actions', {});
  for (const action of ['delete', 'NEW', '', 'new ']) {
    expectError(t, await raised(t, resolve(id, action, p)), 'SB422', 'invalid_action');
    expectError(t, await raised(t, save(id, action, p, 'Actions', {}, 1)), 'SB422', 'invalid_action');
  }
  expectError(t, await raised(t, save(id, 'version', p, 'Actions', {}, 1)), 'SB422', 'invalid_action');
  expectError(t, await raised(t, d.sql`select * from app.resolve_workflow(${id}, null, ${p})`), 'SB422', 'invalid_action');
  t.is((await d.sql`select lock_version from app.workflows where id = ${id}`)[0]!.lock_version, 1);
});

test('a soft-deleted workflow still resolves, but save and reset refuse it with workflow_deleted', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Gone', { v: 1 });
  const [deleted] = await d.sql`select * from app.delete_workflow(${id}, ${p})`;
  t.truthy(deleted!.deleted_at);
  const [again] = await d.sql`select * from app.delete_workflow(${id}, ${p})`;
  t.deepEqual(again!.deleted_at, deleted!.deleted_at, 'deleting twice keeps the first deleted_at');
  const resolved = await resolve(id, 'edit', p);
  t.like(resolved, { kind: 'existing', lock_version: 1 });
  t.truthy(resolved.deleted_at);
  t.like(await resolve(id, 'new', p), { kind: 'existing' });
  t.like(await resolve(id, 'version', p, 1), { kind: 'version' });
  expectError(t, await raised(t, save(id, 'new', p, 'Gone', { v: 2 })), 'SB409', 'workflow_deleted');
  expectError(t, await raised(t, save(id, 'edit', p, 'Gone', { v: 2 }, 1)), 'SB409', 'workflow_deleted');
  expectError(t, await raised(t, d.sql`select * from app.reset_workflow(${id}, ${p})`), 'SB409', 'workflow_deleted');
  t.is((await snapshots(id)).length, 1);
});

test('a stale lock_version is stale_workflow with the current lock_version in the hint', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Locked', { v: 1 });
  await save(id, 'edit', p, 'Locked', { v: 2 }, 1);
  for (const stale of [1, 3]) {
    const e = await raised(t, save(id, 'edit', p, 'Locked', { v: 'lost' }, stale));
    expectError(t, e, 'SB409', 'stale_workflow');
    t.deepEqual(JSON.parse(e.hint!), { lock_version: 2 });
    const http = toHttpError(e)!;
    t.deepEqual([http.status, http.code, http.extra], [409, 'stale_workflow', { lock_version: 2 }]);
  }
  // A client still treating the workflow as new saw only its own first save (version 1).
  expectError(t, await raised(t, save(id, 'new', p, 'Locked', { v: 'lost' })), 'SB409', 'stale_workflow');
  t.like(await save(id, 'new', p, 'Locked', { v: 3 }, 2), { kind: 'existing', lock_version: 3 });
  t.like(await save(id, 'edit', p, 'Locked', { v: 4 }, 3), { kind: 'existing', lock_version: 4 });
  t.deepEqual((await snapshots(id)).map((s) => s.version), [1, 2, 3, 4]);
  t.deepEqual((await d.sql`select definition from app.workflows where id = ${id}`)[0]!.definition, { v: 4 });
});

test('an edit must send a lock_version', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Edit', {});
  expectError(t, await raised(t, save(id, 'edit', p, 'Edit', { v: 2 })), 'SB422', 'lock_version_required');
});

test('a name is unique among a project live workflows: a clash is workflow_name_taken, a delete frees it', async (t) => {
  const p = await project();
  const other = await project();
  const first = randomUUID();
  const second = randomUUID();
  await save(first, 'new', p, 'Shared', {});
  const e = await raised(t, save(second, 'new', p, 'Shared', {}));
  expectError(t, e, 'SB409', 'workflow_name_taken');
  t.deepEqual([toHttpError(e)!.status, toHttpError(e)!.code], [409, 'workflow_name_taken']);
  t.is((await d.sql`select 1 from app.workflows where id = ${second}`).length, 0);
  t.like(await save(randomUUID(), 'new', other, 'Shared', {}), { kind: 'new' }, 'another project may reuse the name');
  await save(second, 'new', p, 'Other', {});
  expectError(t, await raised(t, save(second, 'edit', p, 'Shared', {}, 1)), 'SB409', 'workflow_name_taken');
  await d.sql`select * from app.delete_workflow(${first}, ${p})`;
  t.like(await save(second, 'edit', p, 'Shared', {}, 1), { kind: 'existing', name: 'Shared', lock_version: 2 });
});

test('reset restores the newest snapshot into the draft', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Reset', { v: 1 });
  await save(id, 'edit', p, 'Reset', { v: 2 }, 1);
  // A draft that drifted from its snapshot (written outside save_workflow).
  await d.sql`update app.workflows set definition = '{"v": "drift"}' where id = ${id}`;
  const [reset] = await d.sql`select * from app.reset_workflow(${id}, ${p})`;
  t.like(reset, { id, definition: { v: 2 }, lock_version: 2 });
  t.deepEqual((await d.sql`select definition from app.workflows where id = ${id}`)[0]!.definition, { v: 2 });
  t.is((await snapshots(id)).length, 2, 'a reset writes no snapshot');
});

test('reset of a workflow without snapshots is snapshot_not_found', async (t) => {
  const p = await project();
  const id = randomUUID();
  await d.sql`insert into app.workflows (id, project_id, name, definition) values (${id}, ${p}, 'Bare', '{}')`;
  expectError(t, await raised(t, d.sql`select * from app.reset_workflow(${id}, ${p})`), 'SB404', 'snapshot_not_found');
});

test('a definition must be a JSON object', async (t) => {
  const p = await project();
  const e = await raised(t, d.sql`select * from app.save_workflow(${randomUUID()}, 'new', ${p}, 'Array', '[1]'::jsonb)`);
  t.is(e.code, '23514');
  t.is(e.constraint_name, 'workflows_definition_object');
});

test('deleting a project deletes its workflows and snapshots', async (t) => {
  const p = await project();
  const id = randomUUID();
  await save(id, 'new', p, 'Cascade', {});
  await d.sql`delete from app.projects where id = ${p}`;
  t.is((await d.sql`select 1 from app.workflows where id = ${id}`).length, 0);
  t.is((await snapshots(id)).length, 0);
});

test('the generated query takes the definition from the request body\'s text, parsed by PostgreSQL', async (t) => {
  const p = await project();
  const id = randomUUID();
  const definition = '{"jobs": [{"name": "a", "body": "fn(state => state)"}], "n": 1.5, "big": 1e400, "nested": {"ok": true, "none": null}}';
  const body = `{"action": "new", "name": "Typed", "definition": ${definition}}`;
  const [row] = await saveWorkflow.run({ id, action: 'new', projectId: p, name: 'Typed', body, lockVersion: null }, d.db.conn);
  t.like(row, { kind: 'new', lock_version: 1 });
  const [stored] = await d.sql`select definition::text as definition, jsonb_typeof(definition) as type from app.workflows where id = ${id}`;
  t.deepEqual(stored, {
    // jsonb's text: keys by length, then bytewise; 1e400 written out in full, not the null JSON.parse makes of it.
    definition: `{"n": 1.5, "big": 1${'0'.repeat(400)}, "jobs": [{"body": "fn(state => state)", "name": "a"}], "nested": {"ok": true, "none": null}}`,
    type: 'object',
  });
});

/**
 * Waits until `pid` is blocked on a lock (no sleeps: polls with a deadline). Polls on a
 * connection of its own, so it can never be queued behind a query that is itself blocked.
 */
async function waitUntilBlocked(...pids: number[]): Promise<void> {
  const watcher = postgres(d.url, { max: 1, onnotice: () => undefined });
  try {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const [row] = await watcher`
        select count(*)::int as n from pg_stat_activity where pid = any(${pids}::int[]) and wait_event_type = 'Lock'`;
      if (row!.n === pids.length) return;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`backends ${pids.join(', ')} never all blocked`);
  } finally {
    await watcher.end();
  }
}

/** Runs `first` in an open transaction, starts `second` so it blocks on it, then commits `first`. */
async function interleave<T>(first: (sql: postgres.TransactionSql) => Promise<unknown>, second: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const a = postgres(d.url, { max: 1, onnotice: () => undefined });
  const b = postgres(d.url, { max: 1, onnotice: () => undefined });
  try {
    const [{ pid }] = (await b`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    let secondDone!: Promise<{ ok: T } | { error: unknown }>;
    await a.begin(async (tx) => {
      await first(tx);
      secondDone = second(b).then(
        (ok) => ({ ok }),
        (error: unknown) => ({ error }),
      );
      await waitUntilBlocked(pid);
    });
    const result = await secondDone;
    if ('error' in result) throw result.error;
    return result.ok;
  } finally {
    await a.end();
    await b.end();
  }
}

test('a concurrent new save that loses the insert race becomes an update, with no duplicate key', async (t) => {
  const p = await project();
  const id = randomUUID();
  const json = (v: number) => JSON.stringify({ v });
  const [second] = await interleave(
    (tx) => tx`select * from app.save_workflow(${id}, 'new', ${p}, 'Raced', ${json(1)}::text::jsonb)`,
    (sql) => sql`select * from app.save_workflow(${id}, 'new', ${p}, 'Raced', ${json(2)}::text::jsonb)`,
  );
  t.like(second, { kind: 'existing', lock_version: 2 });
  t.deepEqual([...(await d.sql`select lock_version, definition from app.workflows where id = ${id}`)], [{ lock_version: 2, definition: { v: 2 } }]);
  t.deepEqual((await snapshots(id)).map((s) => s.version), [1, 2]);
});

test('a concurrent new save from another project that loses the insert race is wrong_project, not an update', async (t) => {
  const a = await project();
  const b = await project();
  const id = randomUUID();
  const error = await raised(
    t,
    interleave(
      (tx) => tx`select * from app.save_workflow(${id}, 'new', ${a}, 'Mine', '{"owner": "a"}'::jsonb)`,
      (sql) => sql`select * from app.save_workflow(${id}, 'new', ${b}, 'Yours', '{"owner": "b"}'::jsonb)`,
    ),
  );
  expectError(t, error, 'SB403', 'wrong_project');
  t.deepEqual([...(await d.sql`select project_id, definition, lock_version from app.workflows where id = ${id}`)], [
    { project_id: a, definition: { owner: 'a' }, lock_version: 1 },
  ]);
});

test('two new workflows racing for one name: the loser gets workflow_name_taken, not a raw unique violation', async (t) => {
  const p = await project();
  const error = await raised(
    t,
    interleave(
      (tx) => tx`select * from app.save_workflow(${randomUUID()}, 'new', ${p}, 'Same', '{}'::jsonb)`,
      (sql) => sql`select * from app.save_workflow(${randomUUID()}, 'new', ${p}, 'Same', '{}'::jsonb)`,
    ),
  );
  expectError(t, error, 'SB409', 'workflow_name_taken');
  t.is((await d.sql`select count(*)::int as n from app.workflows where project_id = ${p}`)[0]!.n, 1);
});

// Serial: it share-locks the whole table, which would hold up the other tests' saves meanwhile.
test.serial('saves of one id and one name that pass the primary key check together: one inserts, the others reconcile', async (t) => {
  const p = await project();
  const id = randomUUID();
  const holder = postgres(d.url, { max: 1, onnotice: () => undefined });
  const clients = Array.from({ length: 3 }, () => postgres(d.url, { max: 1, onnotice: () => undefined }));
  try {
    const pids = await Promise.all(clients.map(async (c) => ((await c`select pg_backend_pid() as pid`)[0]!.pid as number)));
    let saves!: Promise<PromiseSettledResult<postgres.Row[]>[]>;
    // An insert needs a lock a share-locked table will not grant (the row lock and the resolver's reads do not),
    // so every save stops right at its insert, before the primary-key check, and all are released at once.
    await holder.begin(async (tx) => {
      await tx`lock table app.workflows in share mode`;
      saves = Promise.allSettled(
        clients.map((c, i) => c`select * from app.save_workflow(${id}, 'new', ${p}, 'Twin', ${JSON.stringify({ i })}::text::jsonb)`),
      );
      await waitUntilBlocked(...pids);
    });
    const outcomes = await saves;
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as postgres.PostgresError);
    // Whoever loses reconciles to existing: an update (lock_version 1 seen) or stale_workflow — never a duplicate key.
    // One inserts; of the two losers, the first to lock the row updates version 1, the other is stale.
    t.deepEqual(failures.map((e) => [e.code, e.message]), [['SB409', 'stale_workflow']]);
    const kinds = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value[0]!.kind as string] : [])).sort();
    t.deepEqual(kinds, ['existing', 'new']);
    t.deepEqual([...(await d.sql`select lock_version from app.workflows where id = ${id}`)], [{ lock_version: 2 }]);
    t.deepEqual((await snapshots(id)).map((s) => s.version), [1, 2]);
  } finally {
    await Promise.all([holder, ...clients].map((c) => c.end()));
  }
});
