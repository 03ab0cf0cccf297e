import test from 'ava';
import { createTestProject, createTestUser, ok } from '../helpers/identity.ts';
import { race } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

test('64 concurrent creates of one handle: exactly one 201, the rest 409, no 5xx', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  const server = await ok<{ id: string }>(
    s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-1' } }),
  );
  // Half name the handle, half derive it from a command: both kinds of handle race for the unique index.
  const results = await race({
    baseUrl: s.url,
    processes: 2,
    clientsPerProcess: 32,
    requestsFor: (proc, client) => [
      {
        method: 'POST',
        path: `/api/servers/${server.id}/releases`,
        token: owner.token,
        json: client % 2 === 0 ? { name: 'deploy' } : { release_command: `/opt/p${proc}c${client}/bin/deploy` },
      },
    ],
  });
  t.is(results.length, 64);
  const statuses = results.map((r) => r.status);
  t.deepEqual(
    results.filter((r) => r.status >= 500 || r.status === 0),
    [],
  );
  t.is(statuses.filter((x) => x === 201).length, 1, JSON.stringify(statuses));
  t.is(statuses.filter((x) => x === 409).length, 63, JSON.stringify(statuses));
  t.true(results.every((r) => r.status !== 409 || (r.body as { error?: string }).error === 'conflict'));

  const rows = await s.sql`select effective_handle from app.releases where server_id = ${server.id}`;
  t.deepEqual(rows.map((r) => r.effective_handle), ['deploy']);
  const winner = results.find((r) => r.status === 201)!.body as { id: string };
  const [row] = await s.sql`select id from app.releases where server_id = ${server.id}`;
  t.is(row!.id, winner.id);
  // Every loser met the unique index and was then told who holds the handle.
  const named = results.filter((r) => r.status === 409 && (r.body as { conflicting_release_id?: string }).conflicting_release_id === winner.id);
  t.is(named.length, 63);
});

test.serial('a create racing an uncommitted rival waits on the unique index, then answers the 409 naming the rival', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  const server = await ok<{ id: string }>(
    s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-1' } }),
  );
  // An uncommitted rival holds the handle: the API's insert waits on the unique index for the
  // rival's outcome, gets 23505 when it commits, and only then looks up the holder for its message.
  let inserted!: () => void;
  let commit!: () => void;
  const rivalInserted = new Promise<void>((r) => (inserted = r));
  const mayCommit = new Promise<void>((r) => (commit = r));
  let rivalPid = 0;
  const rival = s.sql.begin(async (tx) => {
    rivalPid = (await tx`select pg_backend_pid() as pid`)[0]!.pid as number;
    await tx`insert into app.releases (server_id, project_id, name) values (${server.id}, ${project.id}, 'deploy')`;
    inserted();
    await mayCommit;
  });
  await rivalInserted;
  const response = s.request(`/api/servers/${server.id}/releases`, {
    method: 'POST',
    token: owner.token,
    json: { release_command: '/opt/x/bin/deploy' },
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [w] = await s.sql`
      select count(*)::int as n from pg_stat_activity
      where ${rivalPid}::int = any(pg_blocking_pids(pid))`;
    if (w!.n > 0) break;
    if (Date.now() > deadline) {
      commit();
      await rival;
      t.fail('the API insert never waited on the rival');
      return;
    }
    await new Promise((r) => setImmediate(r));
  }
  commit();
  await rival;
  const res = await response;
  t.is(res.status, 409);
  const rows = await s.sql`select id, name, release_command from app.releases where server_id = ${server.id}`;
  t.deepEqual(
    rows.map((r) => ({ name: r.name, release_command: r.release_command })),
    [{ name: 'deploy', release_command: null }],
  );
  t.deepEqual(await res.json(), {
    error: 'conflict',
    message: `The release command's basename "deploy" is already the handle of release ${rows[0]!.id} on this server (its name); set an explicit name for this release.`,
    effective_handle: 'deploy',
    conflicting_release_id: rows[0]!.id,
  });
});
