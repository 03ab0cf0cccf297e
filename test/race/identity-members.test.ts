import test from 'ava';
import { addMember, createTestProject, createTestUser } from '../helpers/identity.ts';
import { race } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

test('two owners removing each other at once never leave a project without an owner', async (t) => {
  const alice = await createTestUser(s);
  const bob = await createTestUser(s);
  const project = await createTestProject(s, alice);
  await addMember(s, alice, project.id, bob, 'owner');
  const results = await race({
    baseUrl: s.url,
    processes: 2,
    clientsPerProcess: 8,
    requestsFor: (proc) => [
      proc === 0
        ? { method: 'DELETE', path: `/api/projects/${project.id}/members/${bob.id}`, token: alice.token }
        : { method: 'DELETE', path: `/api/projects/${project.id}/members/${alice.id}`, token: bob.token },
    ],
  });
  t.false(results.some((r) => r.status >= 500 || r.status === 0), JSON.stringify(results.filter((r) => r.status >= 500)));
  const owners = await s.sql`select count(*)::int as n from app.project_users where project_id = ${project.id} and role = 'owner'`;
  t.is(owners[0]!.n, 1);
  t.is(results.filter((r) => r.status === 204).length, 1);
});
