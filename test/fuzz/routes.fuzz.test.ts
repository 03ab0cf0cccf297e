/**
 * Hostile input across every route the router serves: fast-check generates
 * requests (path params from a seeded fixture, from a victim project, or
 * hostile strings; malformed and ill-typed bodies; odd query strings, content
 * types and repeated headers; tokens of every role or none) and sends them 16
 * at a time. Nothing may answer 5xx or fail to answer, the server must still
 * be alive, and the victim project's rows must be byte-for-byte unchanged.
 *
 * Reproduce a failure with FUZZ_SEED=<seed printed by the test>.
 */
import http from 'node:http';
import test from 'ava';
import fc from 'fast-check';
import { createTestUser } from '../helpers/identity.ts';
import { checkBody, checkResponse } from '../helpers/openapi.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { bodySchemaFor, schemaArb } from './schema-bodies.ts';
import { fuzzUsers, projectChecksum, seedProject, sendRaw, type RawRequest, type Role, type Seeded } from './world.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_240);
const CONCURRENCY = 16;
/** The fuzzer deletes what it can reach; a fresh target project every so many batches keeps most ids meaningful. */
const RESEED_EVERY_BATCHES = 40;

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

interface Route {
  method: string;
  path: string;
  params: string[];
}

function routeTable(server: TestServer): Route[] {
  const routes: Route[] = [];
  for (const layer of server.service.app.router.stack as Array<{ path: string; methods: string[]; paramNames: Array<{ name: string }> }>) {
    for (const method of layer.methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, path: layer.path, params: layer.paramNames.map((p) => String(p.name)) });
    }
  }
  return routes;
}

// ---- symbolic values: resolved against whichever fixture is current when sent ----

type Ref = keyof Seeded | 'userId' | 'jti' | 'asset';
type Value = { ref: Ref; victim: boolean } | { raw: string; encode: boolean };

const hostileStrings = fc.oneof(
  fc.constantFrom(
    '..%2f..%2f..%2fetc%2fpasswd',
    '..%2F..%2Fpackage.json',
    '%2e%2e%2f%2e%2e%2fsrc%2fservice.ts',
    '....//....//etc/passwd',
    '%00',
    '%u0000',
    "'; drop table app.items; --",
    "' or '1'='1",
    '" or ""="',
    '1; select pg_sleep(5)',
    '$1',
    '\\x00',
    '*',
    '%',
    '%25',
    '_',
    '%_%',
    '**',
    '[a-z]*',
    '.*',
    '-1',
    '0',
    '99999999999999999999999999',
    '1e309',
    'NaN',
    'null',
    'undefined',
    '00000000-0000-0000-0000-000000000000',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '{{7*7}}',
    '<script>alert(1)</script>',
    'x'.repeat(300),
    'y'.repeat(5000),
    'ｆｕｚｚ',
    '😀',
    '\u202e',
    'a\u0000b',
    'download',
    'index.html',
    'app.js',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uuid(),
);

const refs: Ref[] = ['projectId', 'sandboxId', 'collection', 'itemKey', 'workflowId', 'serverId', 'releaseId', 'handle', 'userId', 'jti', 'asset'];

/** A path segment: usually the right kind of id (own or the victim's), sometimes another kind, sometimes garbage. */
function paramValue(route: Route, param: string): fc.Arbitrary<Value> {
  const likely = likelyRefs(route, param);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ ref: fc.constantFrom(...likely), victim: fc.constant(false) }) },
    { weight: 2, arbitrary: fc.record({ ref: fc.constantFrom(...likely), victim: fc.constant(true) }) },
    { weight: 1, arbitrary: fc.record({ ref: fc.constantFrom(...refs), victim: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ raw: hostileStrings, encode: fc.boolean() }) },
  );
}

function likelyRefs(route: Route, param: string): Ref[] {
  if (param === 'server_id') return ['serverId'];
  if (param === 'sandbox_id') return ['sandboxId', 'projectId'];
  if (param === 'project_id') return ['projectId', 'sandboxId'];
  if (param === 'user_id') return ['userId'];
  if (param === 'jti') return ['jti'];
  if (param === 'handle') return ['handle'];
  if (param === 'name') return ['collection'];
  if (param === 'file') return ['asset'];
  if (param === 'id' && route.path.includes('/workflows/')) return ['workflowId'];
  if (param === 'id' && route.path.includes('/releases/')) return ['releaseId'];
  if (param === 'id') return ['projectId', 'sandboxId'];
  // /collections/:a/:b/:c: v1 name/key, v2 project/name/key.
  return ['projectId', 'collection', 'itemKey'];
}

// ---- bodies ----

const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\ud800', 'x'.repeat(256), '*', '%', '_', "'; --", '2020-13-45T99:99:99Z', 'not-a-date'),
  fc.integer(),
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

const fieldNames = [
  'name', 'value', 'items', 'key', 'action', 'definition', 'lock_version', 'release_command', 'email', 'role',
  'target_id', 'expires_in_days', 'never_expires', 'workflow_id', 'id', 'project_id', 'created_at', 'effective_handle',
  'server_id', 'parent_id', '__proto__', 'constructor', '\u0000', 'nAmE',
];

const item = fc.record(
  {
    key: fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('k', 'key-1', 'a\u0000', 'x'.repeat(256), '')),
    value: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('v', '\u0000', 'v'.repeat(1_000_001)), hostileJsonValue),
  },
  { requiredKeys: [] },
);

/** Something shaped like what some route wants, with one or more fields wrong. */
const plausibleBody = fc.oneof(
  fc.record({ name: hostileJsonValue }, { requiredKeys: [] }),
  fc.record({ value: fc.oneof(fc.string({ maxLength: 30 }), hostileJsonValue) }, { requiredKeys: [] }),
  fc.record({ items: fc.oneof(fc.array(item, { maxLength: 6 }), hostileJsonValue) }),
  fc.record({
    action: fc.oneof(fc.constantFrom('new', 'edit', 'version', 'restore', 'NEW'), hostileJsonValue),
    name: fc.oneof(fc.constantFrom('wf', 'fuzz-workflow'), hostileJsonValue),
    definition: fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileJsonValue),
    lock_version: fc.oneof(fc.integer({ min: -2, max: 5 }), hostileJsonValue),
  }, { requiredKeys: [] }),
  fc.record({ name: fc.oneof(fc.string(), hostileJsonValue), release_command: fc.oneof(fc.constantFrom('/bin/x', 'x/', '/'), hostileJsonValue) }, { requiredKeys: [] }),
  fc.record({ email: hostileJsonValue, role: fc.oneof(fc.constantFrom('viewer', 'editor', 'admin', 'owner', 'god'), hostileJsonValue) }, { requiredKeys: [] }),
  fc.record({ target_id: fc.oneof(fc.uuid(), hostileJsonValue), workflow_id: fc.oneof(fc.uuid(), hostileJsonValue) }, { requiredKeys: [] }),
  fc.record({ expires_in_days: hostileJsonValue, never_expires: hostileJsonValue, name: hostileJsonValue }, { requiredKeys: [] }),
  fc.dictionary(fc.constantFrom(...fieldNames), hostileJsonValue, { maxKeys: 5 }),
);

function deep(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

type Body = { json: unknown } | { text: string } | { none: true };

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ none: true as const }) },
  { weight: 6, arbitrary: plausibleBody.map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{', '{"name":', '{"name": "a",}', "{'name': 'a'}", 'null', '[]', '"str"', '42', 'true', '',
      '{"name":"a","name":"b"}', '{"value": 1e999999}', '{"lock_version": 123456789012345678901234567890}',
      '{"name":"\\u0000"}', '{"\\u0000":"x"}', '{"name":"\\ud800"}', '\uFEFF{"name":"bom"}',
      `{"definition": ${deep(5000)}}`, deep(20_000), '{"items":[{"key":"a","value":"b"},{"key":"a","value":"c"}]}',
      '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"polluted": true}}}',
    ).map((text) => ({ text })),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text })) },
);

const contentTypes = fc.constantFrom(
  'application/json', 'application/json', 'application/json', 'application/json; charset=utf-8',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/merge-patch+json', 'application/xml', '', 'application/json, text/plain', '*/*',
);

// ---- query strings ----

const queryKeys = [
  'key', 'limit', 'cursor', 'created_after', 'created_before', 'updated_after', 'updated_before', 'project_id',
  'version', 'include_deleted', 'target', 'id', '__proto__', 'limit[]', 'key[$ne]', '\u0000',
];
const queryValues = fc.oneof(
  hostileStrings,
  fc.constantFrom(
    '1', '10', '1000', '10000', '10001', '-1', '0', '1e3', '18446744073709551616', '9223372036854775807', '99999999999999999999',
    'MQ', 'MA', 'LTE', 'OTIyMzM3MjAzNjg1NDc3NTgwOA', 'AAAA', '===', '!!', 'key-*', 'key-%', 'key\\*', '*-1', '**key**',
    '2024-01-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-01-01', '0000-00-00T00:00:00Z', '9999-12-31T23:59:59.999999999+14:00',
    '2024-01-01T25:61:61Z', 'yesterday', 'true', 'false', '',
  ),
);
const queryArb = fc.array(fc.tuple(fc.constantFrom(...queryKeys), queryValues, fc.boolean()), { maxLength: 4 });

// ---- the request ----

type Caller = Role | 'run' | 'garbage' | 'none' | 'two';
const callerArb = fc.constantFrom<Caller>('owner', 'admin', 'editor', 'editor', 'viewer', 'nonMember', 'run', 'run', 'garbage', 'none', 'two');

interface Generated {
  routeIndex: number;
  method: string | null;
  params: Value[];
  query: Array<[string, string, boolean]>;
  body: Body;
  contentType: string;
  caller: Caller;
  apiVersion: string | string[] | null;
  extraSlash: boolean;
}

/** For a route the OpenAPI document gives a body schema: mostly bodies of that shape (hostile leaves), else any body. */
function schemaBody(route: Route): fc.Arbitrary<Body> | undefined {
  const schema = bodySchemaFor(route.path, route.method);
  if (!schema) return undefined;
  const leafHostile = fc.oneof(hostileJsonValue, hostileStrings);
  return fc.oneof({ weight: 3, arbitrary: schemaArb(schema, leafHostile).map((json) => ({ json })) }, { weight: 2, arbitrary: bodyArb });
}

function requestArb(routes: Route[]): fc.Arbitrary<Generated> {
  return fc.integer({ min: 0, max: routes.length - 1 }).chain((routeIndex) => {
    const route = routes[routeIndex]!;
    return fc.record({
      routeIndex: fc.constant(routeIndex),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE') }),
      params: fc.tuple(...route.params.map((p) => paramValue(route, p))) as fc.Arbitrary<Value[]>,
      query: queryArb,
      body: schemaBody(route) ?? bodyArb,
      contentType: contentTypes,
      caller: callerArb,
      apiVersion: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 4, arbitrary: fc.constantFrom('1', '2') },
        { weight: 1, arbitrary: fc.constantFrom('99', '', '2.0', ' 2', '\t1', '02') },
        { weight: 1, arbitrary: fc.constantFrom(['1', '2'], ['2', '2'], ['2', '99']) },
      ),
      extraSlash: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }) as fc.Arbitrary<Generated>;
  });
}

interface World {
  seeded: Seeded;
  victim: Seeded;
  users: Record<Role, { id: string; token: string }>;
  victimUserId: string;
  jti: string;
  victimJti: string;
}

/** encodeURIComponent, except that it cannot throw: lone surrogates become U+FFFD, as Buffer.from makes them. */
function pct(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

function resolveValue(v: Value, w: World): string {
  if ('raw' in v) return v.encode ? pct(v.raw) : rawSegment(v.raw);
  const from = v.victim ? w.victim : w.seeded;
  switch (v.ref) {
    case 'userId':
      return v.victim ? w.victimUserId : w.users.editor.id;
    case 'jti':
      return v.victim ? w.victimJti : w.jti;
    case 'asset':
      return 'app.js';
    case 'runToken':
      return 'x';
    default:
      return pct(from[v.ref]);
  }
}

/** Keeps what an HTTP request line can carry (no spaces or controls); the rest percent-encoded. */
function rawSegment(raw: string): string {
  return raw.replace(/[^\x21-\x7e]|[?#]/gu, (c) => pct(c));
}

function materialise(g: Generated, routes: Route[], w: World): RawRequest {
  const route = routes[g.routeIndex]!;
  let i = 0;
  let path = route.path.replace(/:(\w+)/g, () => resolveValue(g.params[i++]!, w));
  if (g.extraSlash) path = path.replace('/', '//');
  if (g.query.length > 0) {
    const qs = g.query.map(([k, v, enc]) => `${pct(k)}=${enc ? pct(v) : rawSegment(v)}`).join('&');
    path += `?${qs}`;
  }
  const headers: Record<string, string | string[]> = {};
  const tokenOf: Record<Caller, string | string[] | undefined> = {
    owner: w.users.owner.token,
    admin: w.users.admin.token,
    editor: w.users.editor.token,
    viewer: w.users.viewer.token,
    nonMember: w.users.nonMember.token,
    run: w.seeded.runToken,
    garbage: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyOjEifQ.',
    none: undefined,
    two: [w.users.viewer.token, w.users.owner.token],
  };
  const token = tokenOf[g.caller];
  if (token !== undefined) headers.authorization = Array.isArray(token) ? token.map((t) => `Bearer ${t}`) : `Bearer ${token}`;
  if (g.apiVersion !== null) headers['x-api-version'] = g.apiVersion;
  let body: string | undefined;
  if ('json' in g.body) body = JSON.stringify(g.body.json);
  else if ('text' in g.body) body = g.body.text;
  if (body !== undefined) {
    if (g.contentType !== '') headers['content-type'] = g.contentType;
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return { method: g.method ?? route.method, path, headers, ...(body !== undefined ? { body } : {}) };
}

test('10,000+ hostile requests across every route: no 5xx, server alive, the victim project untouched', async (t) => {
  t.timeout(240_000);
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.log(`FUZZ_SEED=${seed} (${REQUESTS} requests)`);
  console.log(`routes.fuzz: FUZZ_SEED=${seed}`);

  const routes = routeTable(s);
  t.true(routes.length >= 40, `the router serves ${routes.length} routes`);
  const users = await fuzzUsers(s);
  const victimOwner = await createTestUser(s);
  const victim = await seedProject(s, victimOwner, {}, 200);
  const [jtiRow] = await s.sql<[{ jti: string }]>`select jti from app.access_tokens where user_id = ${users.editor.id} limit 1`;
  const [victimJtiRow] = await s.sql<[{ jti: string }]>`select jti from app.access_tokens where user_id = ${victimOwner.id} limit 1`;
  const world: World = {
    seeded: await seedProject(s, users.owner, users),
    victim,
    users,
    victimUserId: victimOwner.id,
    jti: jtiRow.jti,
    victimJti: victimJtiRow.jti,
  };
  const before = await projectChecksum(s, victim.projectId);
  t.true(before.rows > 200);
  t.log(`victim project: ${before.rows} rows checksummed`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  const routesHit = new Set<number>();
  let sent = 0;
  let batches = 0;
  const failures: string[] = [];
  const contractBreaks = new Map<string, string>();
  try {
    // fc.check, not fc.assert: the counterexample (16 requests, some with huge bodies) is too big to print usefully.
    const details = await fc.check(
      fc.asyncProperty(fc.array(requestArb(routes), { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
        batches += 1;
        if (batches % RESEED_EVERY_BATCHES === 0) world.seeded = await seedProject(s, users.owner, users);
        const results = await Promise.all(
          batch.map(async (g) => {
            const r = materialise(g, routes, world);
            const res = await sendRaw(s.url, agent, r);
            sent += 1;
            routesHit.add(g.routeIndex);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            return { r, res };
          }),
        );
        for (const { r, res } of results) {
          // Hostile input must not make the service say anything its OpenAPI document does not promise.
          if (res.status > 0 && res.status < 500) {
            const x = { method: r.method, path: r.path.split('?')[0]!, status: res.status, contentType: res.contentType };
            try {
              checkBody(x, checkResponse(x), res.body);
            } catch (error) {
              const key = `${r.method} ${x.path.replace(/\/[^/]*/g, (seg) => (seg.length > 12 ? '/…' : seg))} ${res.status}`;
              if (!contractBreaks.has(key)) contractBreaks.set(key, `${(error as Error).message.slice(0, 400)}\n  headers ${JSON.stringify(r.headers).slice(0, 200)} body ${JSON.stringify(r.body)?.slice(0, 200)}`);
            }
          }
          if (res.status >= 500 || res.status === 0) {
            failures.push(
              `${r.method} ${r.path.slice(0, 300)} → ${res.status} ${res.error ?? ''} ${res.body.slice(0, 300)}\n  headers ${JSON.stringify(r.headers).slice(0, 300)}\n  body ${JSON.stringify(r.body)?.slice(0, 300)}`,
            );
            return false;
          }
        }
        return true;
      }),
      { seed, numRuns: Math.ceil(REQUESTS / CONCURRENCY), endOnFailure: true },
    );
    if (details.failed) t.fail(`FUZZ_SEED=${seed} path=${details.counterexamplePath}: ${(details.errorInstance as Error | null)?.message ?? ''}\n${failures.slice(0, 5).join('\n')}`);
  } finally {
    agent.destroy();
    const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`).join(' ');
    t.log(`sent ${sent} requests over ${routesHit.size}/${routes.length} routes; statuses ${summary}`);
    console.log(`routes.fuzz: sent ${sent} requests over ${routesHit.size}/${routes.length} routes; statuses ${summary}`);
  }

  t.true(sent >= REQUESTS);
  t.is(routesHit.size, routes.length, 'every route was tried');
  t.false([...statuses.keys()].some((status) => status >= 500), 'no 5xx');
  if (contractBreaks.size > 0) t.log([...contractBreaks.keys()].join("\n"));
  t.deepEqual([...contractBreaks.values()].slice(0, 10), [], `${contractBreaks.size} kinds of response disagree with the OpenAPI document`);
  const health = await fetch(`${s.url}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await projectChecksum(s, victim.projectId), before, "the victim project's rows are unchanged");
});
