import { randomUUID } from 'node:crypto';
import test from 'ava';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { loadConfig } from '../../src/config/config.ts';
import { loadSigningKey, type SigningKey } from '../../src/identity/keys.ts';
import { createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
let key: SigningKey;
let alice: TestUser;
let aliceJti: string;
test.before(async () => {
  s = await startTestServer();
  // The same key file the test server loaded: tokens below are validly signed unless a test says otherwise.
  key = await loadSigningKey(loadConfig({ SANDBAR_DATA_DIR: process.env.SANDBAR_TEST_DATA_DIR ?? '.data-test' }));
  alice = await createTestUser(s);
  const issued = await ok<{ jti: string; token: string }>(s.request('/api/tokens', { method: 'POST', token: alice.token, json: { name: 'attack-base' } }));
  aliceJti = issued.jti;
});
test.after.always(() => s?.stop());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  return { sub: `user:${alice.id}`, jti: aliceJti, iss: 'sandbar', aud: 'sandbar', iat: now(), exp: now() + 600, ...overrides };
}

async function signed(payload: JWTPayload, header: Record<string, unknown> = {}, signingKey: SigningKey['privateKey'] = key.privateKey) {
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header }).sign(signingKey);
}

async function assert401(t: import('ava').ExecutionContext, token: string | undefined, header?: string) {
  const res = await s.request('/api/projects', { headers: { authorization: header ?? `Bearer ${token}` } });
  t.is(res.status, 401, `token ${token?.slice(0, 40)}…`);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  t.is(((await res.json()) as { error: string }).error, 'unauthorized');
}

test('a correctly signed token for a live PAT is accepted (the control for every attack below)', async (t) => {
  const res = await s.request('/api/projects', { token: await signed(claims()) });
  t.is(res.status, 200);
});

test('alg: none is refused', async (t) => {
  await assert401(t, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`);
  await assert401(t, `${b64({ alg: 'none', typ: 'JWT', kid: key.kid })}.${b64(claims())}.`);
});

test('HS256 signed with the public key as the secret is refused (algorithm confusion)', async (t) => {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(secret);
  await assert401(t, forged);
});

test('expired and not-yet-valid tokens are refused', async (t) => {
  await assert401(t, await signed(claims({ iat: now() - 7200, exp: now() - 3600 })));
  await assert401(t, await signed(claims({ nbf: now() + 3600 })));
});

test('a wrong issuer or audience is refused', async (t) => {
  await assert401(t, await signed(claims({ iss: 'someone-else' })));
  await assert401(t, await signed(claims({ aud: 'another-service' })));
});

test('a token signed with another key is refused, even with our kid or an embedded jwk', async (t) => {
  const attacker = await generateKeyPair('ES256', { extractable: true });
  await assert401(t, await signed(claims(), {}, attacker.privateKey));
  await assert401(t, await signed(claims(), { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey));
  await assert401(t, await signed(claims(), { kid: 'another-kid' }));
});

test('a revoked PAT is refused at once', async (t) => {
  const issued = await ok<{ jti: string; token: string }>(s.request('/api/tokens', { method: 'POST', token: alice.token, json: { name: 'doomed' } }));
  t.is((await s.request('/api/projects', { token: issued.token })).status, 200);
  const del = await s.request(`/api/tokens/${issued.jti}`, { method: 'DELETE', token: alice.token });
  t.is(del.status, 204);
  await assert401(t, issued.token);
  const list = await ok<{ tokens: Array<{ jti: string; revoked_at: string | null }> }>(s.request('/api/tokens', { token: alice.token }));
  t.truthy(list.tokens.find((x) => x.jti === issued.jti)?.revoked_at);
});

test('a signed token whose jti was never issued, or whose subject is not its owner, is refused', async (t) => {
  await assert401(t, await signed(claims({ jti: randomUUID() })));
  const bob = await createTestUser(s);
  await assert401(t, await signed(claims({ sub: `user:${bob.id}` })));
});

test('a run token without exp, or with a malformed subject, is refused', async (t) => {
  const { exp: _exp, ...noExp } = claims({ sub: `run:${randomUUID()}`, jti: randomUUID() });
  await assert401(t, await signed(noExp));
  await assert401(t, await signed(claims({ sub: 'admin' })));
  await assert401(t, await signed(claims({ sub: `user:not-a-uuid` })));
});

test('the auth scheme is case-insensitive (RFC 9110 §11.1)', async (t) => {
  const token = await signed(claims());
  for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
    const res = await s.request('/api/projects', { headers: { authorization: `${scheme} ${token}` } });
    t.is(res.status, 200, scheme);
  }
  t.is((await s.request('/api/projects', { headers: { authorization: `Bearer  ${token}` } })).status, 200, 'two spaces');
});

test('garbage and malformed Authorization headers are refused', async (t) => {
  await assert401(t, 'garbage');
  await assert401(t, 'a.b.c');
  await assert401(t, `${b64({ alg: 'ES256' })}.${b64(claims())}.${'A'.repeat(86)}`);
  await assert401(t, undefined, 'Basic dXNlcjpwYXNz');
  await assert401(t, undefined, 'Bearer');
  await assert401(t, undefined, 'Bearertoken');
  await assert401(t, undefined, `Bearer ${'x'.repeat(5000)}`);
});

test('last_used_at is recorded without a write per request', async (t) => {
  const issued = await ok<{ jti: string; token: string }>(s.request('/api/tokens', { method: 'POST', token: alice.token, json: {} }));
  for (let i = 0; i < 3; i++) t.is((await s.request('/api/projects', { token: issued.token })).status, 200);
  const before = await s.sql`select last_used_at from app.access_tokens where jti = ${issued.jti}`;
  t.is(before[0]!.last_used_at, null);
  await s.service.auth.flushLastUsed();
  const after = await s.sql`select last_used_at from app.access_tokens where jti = ${issued.jti}`;
  t.truthy(after[0]!.last_used_at);
});

test('PATs expire after 90 days by default, never only when asked, and not both', async (t) => {
  const dflt = await ok<{ expires_at: string }>(s.request('/api/tokens', { method: 'POST', token: alice.token, json: {} }));
  const days = (Date.parse(dflt.expires_at) - Date.now()) / 86_400_000;
  t.true(days > 89.9 && days <= 90);
  const forever = await ok<{ expires_at: string | null }>(s.request('/api/tokens', { method: 'POST', token: alice.token, json: { never_expires: true } }));
  t.is(forever.expires_at, null);
  const both = await s.request('/api/tokens', { method: 'POST', token: alice.token, json: { never_expires: true, expires_in_days: 3 } });
  t.is(both.status, 422);
});
