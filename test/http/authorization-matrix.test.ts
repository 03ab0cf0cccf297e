/**
 * The authorization matrix: every route the router serves × every kind of
 * caller, asserting the exact status. Rules are keyed by the router's own
 * route table, so a new route without a rule here fails this test.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { openApiDocument, type Method } from '../../src/http/openapi.ts';
import { matchPath } from '../helpers/openapi.ts';
import { callers, createFixture, createUsers, expectedStatus, type Access, type Caller, type Fixture } from '../helpers/matrix.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

interface Built {
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
}

interface Rule {
  access: Access;
  /** v2 collections routes answer 403, not 404, for a project the token may not use (the wire contract). */
  unreachable?: 403;
  /** The status of a successful call. */
  success: number;
  /** Builds the concrete request (creating whatever it addresses) for a fresh fixture. */
  request(s: TestServer, f: Fixture, caller: Caller): Promise<Built> | Built;
}

const p = (f: Fixture) => `/api/projects/${f.projectId}`;
const rand = () => randomUUID().slice(0, 8);

async function sandbox(s: TestServer, f: Fixture): Promise<string> {
  const [row] = await s.sql`select id from app.create_sandbox(${f.projectId}, 'matrix-sandbox', ${f.users.owner.id})`;
  return row!.id as string;
}

async function workflow(s: TestServer, f: Fixture): Promise<string> {
  const id = randomUUID();
  const res = await s.request(`${p(f)}/workflows/${id}`, {
    method: 'PUT',
    token: f.tokens.owner!,
    json: { action: 'new', name: `wf-${rand()}`, definition: { steps: [] } },
  });
  if (res.status !== 201) throw new Error(`workflow fixture: ${res.status} ${await res.text()}`);
  return id;
}

/** A collection with one item (key `k1`) in the fixture project; its name is unique, so v1 is never ambiguous here. */
async function collection(s: TestServer, f: Fixture): Promise<string> {
  const name = `c-${rand()}`;
  const [c] = await s.sql`insert into app.collections (project_id, name) values (${f.projectId}, ${name}) returning id`;
  await s.sql`insert into app.items (collection_id, project_id, key, value) values (${c!.id}, ${f.projectId}, 'k1', '"v1"')`;
  return name;
}
const v2 = { 'x-api-version': '2' };

async function server(s: TestServer, f: Fixture): Promise<string> {
  const [row] = await s.sql`insert into app.servers (project_id, name) values (${f.projectId}, ${`srv-${rand()}`}) returning id`;
  return row!.id as string;
}

async function release(s: TestServer, f: Fixture): Promise<{ serverId: string; id: string; handle: string }> {
  const serverId = await server(s, f);
  const handle = `rel-${rand()}`;
  const [row] = await s.sql`
    insert into app.releases (server_id, project_id, name) values (${serverId}, ${f.projectId}, ${handle}) returning id`;
  return { serverId, id: row!.id as string, handle };
}

const rules: Record<string, Rule> = {
  'GET /healthz': { access: 'public', success: 200, request: () => ({ path: '/healthz' }) },
  'GET /readyz': { access: 'public', success: 200, request: () => ({ path: '/readyz' }) },
  'GET /metrics': { access: 'public', success: 200, request: () => ({ path: '/metrics' }) },

  'POST /api/tokens': { access: 'user', success: 201, request: () => ({ path: '/api/tokens', json: {} }) },
  'GET /api/tokens': { access: 'user', success: 200, request: () => ({ path: '/api/tokens' }) },
  'DELETE /api/tokens/:jti': {
    access: 'user',
    success: 204,
    async request(s, f, caller) {
      // The caller's own token (another user's jti is a 404 for them, tested in auth-tokens).
      const user = f.users[caller as keyof Fixture['users']] ?? f.users.owner;
      const res = await s.request('/api/tokens', { method: 'POST', token: user.token, json: {} });
      const { jti } = (await res.json()) as { jti: string };
      return { path: `/api/tokens/${jti}` };
    },
  },
  'POST /api/projects': { access: 'user', success: 201, request: () => ({ path: '/api/projects', json: { name: 'm' } }) },
  'GET /api/projects': { access: 'user', success: 200, request: () => ({ path: '/api/projects' }) },
  'GET /api/projects/:id': { access: 'read', success: 200, request: (_s, f) => ({ path: p(f) }) },
  'DELETE /api/projects/:id': { access: 'own', success: 204, request: (_s, f) => ({ path: p(f) }) },
  'GET /api/projects/:id/members': { access: 'read', success: 200, request: (_s, f) => ({ path: `${p(f)}/members` }) },
  'POST /api/projects/:id/members': {
    access: 'manage',
    success: 201,
    request: (_s, f) => ({ path: `${p(f)}/members`, json: { email: f.users.nonMember.email, role: 'viewer' } }),
  },
  'DELETE /api/projects/:id/members/:user_id': {
    access: 'manage',
    success: 204,
    request: (_s, f) => ({ path: `${p(f)}/members/${f.users.viewer.id}` }),
  },
  'POST /api/projects/:id/sandboxes': {
    access: 'manage',
    success: 201,
    request: (_s, f) => ({ path: `${p(f)}/sandboxes`, json: { name: 'sb' } }),
  },
  'POST /api/projects/:id/runs': { access: 'write-user', success: 201, request: (_s, f) => ({ path: `${p(f)}/runs`, json: {} }) },

  // ---- sandboxes (addressed by the sandbox; members are copied from the parent, the run is the parent's) ----
  'GET /api/projects/:sandbox_id/merge-preview': {
    access: 'read',
    success: 200,
    request: async (s, f) => ({ path: `/api/projects/${await sandbox(s, f)}/merge-preview` }),
  },
  'POST /api/projects/:sandbox_id/merge': {
    access: 'manage',
    success: 200,
    request: async (s, f) => ({ path: `/api/projects/${await sandbox(s, f)}/merge`, json: {} }),
  },

  // ---- collections: management API ----
  'POST /api/projects/:id/collections': {
    access: 'manage',
    success: 201,
    request: (_s, f) => ({ path: `${p(f)}/collections`, json: { name: `c-${rand()}` } }),
  },
  'GET /api/projects/:id/collections': { access: 'read', success: 200, request: (_s, f) => ({ path: `${p(f)}/collections` }) },
  'PATCH /api/projects/:id/collections/:name': {
    access: 'manage',
    success: 200,
    request: async (s, f) => ({ path: `${p(f)}/collections/${await collection(s, f)}`, json: { name: `r-${rand()}` } }),
  },
  'DELETE /api/projects/:id/collections/:name': {
    access: 'manage',
    success: 204,
    request: async (s, f) => ({ path: `${p(f)}/collections/${await collection(s, f)}` }),
  },
  'GET /api/projects/:id/collections/:name/download': {
    access: 'read',
    success: 200,
    request: async (s, f) => ({ path: `${p(f)}/collections/${await collection(s, f)}/download` }),
  },

  // ---- collections: data API (v1 by name, v2 by project id; one router path serves both shapes) ----
  'GET /collections/:a': { access: 'read', success: 200, request: async (s, f) => ({ path: `/collections/${await collection(s, f)}` }) },
  'GET /collections/:a/:b': {
    access: 'read',
    success: 200,
    request: async (s, f) => ({ path: `/collections/${await collection(s, f)}/k1` }),
  },
  'GET /collections/:a/:b/:c': {
    access: 'read',
    unreachable: 403,
    success: 200,
    request: async (s, f) => ({ path: `/collections/${f.projectId}/${await collection(s, f)}/k1`, headers: v2 }),
  },
  'PUT /collections/:a/:b': {
    access: 'write',
    success: 200,
    request: async (s, f) => ({ path: `/collections/${await collection(s, f)}/k2`, json: { value: 'x' } }),
  },
  'PUT /collections/:a/:b/:c': {
    access: 'write',
    unreachable: 403,
    success: 200,
    request: async (s, f) => ({ path: `/collections/${f.projectId}/${await collection(s, f)}/k2`, json: { value: 'x' }, headers: v2 }),
  },
  'POST /collections/:a': {
    access: 'write',
    success: 200,
    request: async (s, f) => ({ path: `/collections/${await collection(s, f)}`, json: { items: [{ key: 'a', value: 'b' }] } }),
  },
  'POST /collections/:a/:b': {
    access: 'write',
    unreachable: 403,
    success: 200,
    request: async (s, f) => ({
      path: `/collections/${f.projectId}/${await collection(s, f)}`,
      json: { items: [{ key: 'a', value: 'b' }] },
      headers: v2,
    }),
  },
  'DELETE /collections/:a': { access: 'write', success: 200, request: async (s, f) => ({ path: `/collections/${await collection(s, f)}` }) },
  'DELETE /collections/:a/:b': {
    access: 'write',
    success: 200,
    request: async (s, f) => ({ path: `/collections/${await collection(s, f)}/k1` }),
  },
  'DELETE /collections/:a/:b/:c': {
    access: 'write',
    unreachable: 403,
    success: 200,
    request: async (s, f) => ({ path: `/collections/${f.projectId}/${await collection(s, f)}/k1`, headers: v2 }),
  },

  // ---- workflows ----
  'GET /api/projects/:project_id/workflows': { access: 'read', success: 200, request: (_s, f) => ({ path: `${p(f)}/workflows` }) },
  'GET /api/projects/:project_id/workflows/:id': {
    access: 'read',
    success: 200,
    request: async (s, f) => ({ path: `${p(f)}/workflows/${await workflow(s, f)}` }),
  },
  'PUT /api/projects/:project_id/workflows/:id': {
    access: 'write',
    success: 201,
    request: (_s, f) => ({
      path: `${p(f)}/workflows/${randomUUID()}`,
      json: { action: 'new', name: `wf-${rand()}`, definition: { steps: [] } },
    }),
  },
  'DELETE /api/projects/:project_id/workflows/:id': {
    access: 'write',
    success: 204,
    request: async (s, f) => ({ path: `${p(f)}/workflows/${await workflow(s, f)}` }),
  },
  'POST /api/projects/:project_id/workflows/:id/reset': {
    access: 'write',
    success: 200,
    request: async (s, f) => ({ path: `${p(f)}/workflows/${await workflow(s, f)}/reset` }),
  },

  // ---- fleet ----
  'POST /api/projects/:project_id/servers': {
    access: 'manage',
    success: 201,
    request: (_s, f) => ({ path: `${p(f)}/servers`, json: { name: `srv-${rand()}` } }),
  },
  'GET /api/projects/:project_id/servers': { access: 'read', success: 200, request: (_s, f) => ({ path: `${p(f)}/servers` }) },
  'POST /api/servers/:server_id/releases': {
    access: 'write',
    success: 201,
    request: async (s, f) => ({ path: `/api/servers/${await server(s, f)}/releases`, json: { name: `rel-${rand()}` } }),
  },
  'GET /api/servers/:server_id/releases': {
    access: 'read',
    success: 200,
    request: async (s, f) => ({ path: `/api/servers/${await server(s, f)}/releases` }),
  },
  'GET /api/servers/:server_id/releases/:handle': {
    access: 'read',
    success: 200,
    async request(s, f) {
      const r = await release(s, f);
      return { path: `/api/servers/${r.serverId}/releases/${r.handle}` };
    },
  },
  'PATCH /api/servers/:server_id/releases/:id': {
    access: 'write',
    success: 200,
    async request(s, f) {
      const r = await release(s, f);
      return { path: `/api/servers/${r.serverId}/releases/${r.id}`, json: { name: `renamed-${rand()}` } };
    },
  },
  'DELETE /api/servers/:server_id/releases/:id': {
    access: 'write',
    success: 204,
    async request(s, f) {
      const r = await release(s, f);
      return { path: `/api/servers/${r.serverId}/releases/${r.id}` };
    },
  },

  // ---- console (static assets; the API calls it makes are authorized as above) ----
  'GET /console': { access: 'public', success: 200, request: () => ({ path: '/console' }) },
  'GET /console/': { access: 'public', success: 200, request: () => ({ path: '/console/' }) },
  'GET /console/assets/:file': { access: 'public', success: 200, request: () => ({ path: '/console/assets/app.js' }) },

  // ---- the API document and its viewer ----
  'GET /openapi.json': { access: 'public', success: 200, request: () => ({ path: '/openapi.json' }) },
  'GET /docs': { access: 'public', success: 200, request: () => ({ path: '/docs' }) },
  'GET /docs/assets/:file': { access: 'public', success: 200, request: () => ({ path: '/docs/assets/init.js' }) },
};

/** Routes whose rules other suites own (e.g. run tokens on user-only routes behave differently). */
function expected(rule: Rule, key: string, caller: Caller): number {
  // The fixture's run belongs to the parent, so it does not reach the sandbox these routes address.
  if (key.startsWith('GET /api/projects/:sandbox_id') || key.startsWith('POST /api/projects/:sandbox_id')) {
    if (caller === 'runThis') return 404;
  }
  if (rule.unreachable && (caller === 'nonMember' || caller === 'runOther')) return rule.unreachable;
  // GET /api/projects lists what a run token reaches too.
  if (key === 'GET /api/projects' && (caller === 'runThis' || caller === 'runOther')) return 200;
  return expectedStatus(rule.access, caller, rule.success);
}

let s: TestServer;
let users: Fixture['users'];
test.before(async () => {
  s = await startTestServer();
  users = await createUsers(s);
});
test.after.always(() => s?.stop());

function servedRoutes(): string[] {
  const keys = new Set<string>();
  for (const layer of s.service.app.router.stack) {
    for (const method of layer.methods) {
      if (method === 'HEAD') continue;
      keys.add(`${method} ${layer.path}`);
    }
  }
  return [...keys].sort();
}

test('every served route has an authorization rule', (t) => {
  const missing = servedRoutes().filter((k) => !rules[k]);
  t.deepEqual(missing, [], 'add a rule to test/http/authorization-matrix.test.ts for each of these routes');
});

for (const [key, rule] of Object.entries(rules)) {
  test(`matrix: ${key}`, async (t) => {
    const [method] = key.split(' ') as [string];
    const failures: string[] = [];
    for (const caller of callers) {
      const f = await createFixture(s, users);
      const { path, json, headers } = await rule.request(s, f, caller);
      const token = f.tokens[caller];
      const res = await s.request(path, {
        method,
        ...(headers ? { headers } : {}),
        ...(token ? { token } : {}),
        ...(json !== undefined ? { json } : {}),
      });
      const want = expected(rule, key, caller);
      const body = await res.text();
      if (res.status !== want) failures.push(`${caller}: expected ${want}, got ${res.status} ${body.slice(0, 200)}`);
      if (res.status >= 400 && !/^\{"error":"[a-z_]+","message":/.test(body)) failures.push(`${caller}: error body not in the JSON error shape: ${body.slice(0, 200)}`);
    }
    t.deepEqual(failures, []);
  });
}

test('every route that needs a token refuses a query parameter it does not take (400); public routes ignore it', async (t) => {
  const failures: string[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const [method] = key.split(' ') as [string];
    const f = await createFixture(s, users);
    const { path, json, headers } = await rule.request(s, f, 'owner');
    const res = await s.request(`${path}?no_such_parameter=1`, {
      method,
      token: f.tokens.owner!,
      ...(headers ? { headers } : {}),
      ...(json !== undefined ? { json } : {}),
    });
    const body = await res.text();
    if (rule.access === 'public') {
      if (res.status !== rule.success) failures.push(`${key}: expected ${rule.success}, got ${res.status} ${body.slice(0, 200)}`);
    } else if (res.status !== 400 || body !== '{"error":"bad_request","message":"Unrecognized key: \\"no_such_parameter\\""}') {
      failures.push(`${key}: expected the 400 of an unknown parameter, got ${res.status} ${body.slice(0, 200)}`);
    }
  }
  t.deepEqual(failures, []);
});

test('the OpenAPI document marks a request body optional exactly where leaving it out succeeds', async (t) => {
  const failures: string[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const [method] = key.split(' ') as [string];
    const f = await createFixture(s, users);
    const { path, headers } = await rule.request(s, f, 'owner');
    const operation = openApiDocument.paths[matchPath(path)!]![method.toLowerCase() as Method]!;
    if (!operation.requestBody) continue;
    const res = await s.request(path, { method, token: f.tokens.owner!, ...(headers ? { headers } : {}) });
    const body = await res.text();
    const want = operation.requestBody.required ? 422 : rule.success;
    if (res.status !== want) failures.push(`${key} (required: ${operation.requestBody.required}): expected ${want} without a body, got ${res.status} ${body.slice(0, 200)}`);
  }
  t.deepEqual(failures, []);
});

test('nothing leaks another project: a foreign project id answers exactly like a nonexistent one', async (t) => {
  const f = await createFixture(s, users);
  const foreign = await s.request(`/api/projects/${f.otherProjectId}`, { token: f.tokens.owner! });
  const missing = await s.request(`/api/projects/${randomUUID()}`, { token: f.tokens.owner! });
  t.is(foreign.status, 404);
  t.is(missing.status, 404);
  t.deepEqual(await foreign.json(), await missing.json());
});
