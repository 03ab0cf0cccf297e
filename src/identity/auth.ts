import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/db.ts';
import { forbidden, notFound, unauthorized } from '../http/errors.ts';
import {
  accessTokenStatus,
  insertAccessToken,
  projectRole,
  touchAccessTokens,
  type IInsertAccessTokenResult,
} from '../../sql/identity.queries.ts';
import { JWT_ALGORITHM, type SigningKey } from './keys.ts';
import { principalIds, roleAllows, type Access, type Principal, type ProjectRole } from './principal.ts';

declare module 'koa' {
  interface DefaultState {
    principal?: Principal;
  }
}

const CLOCK_TOLERANCE_SECONDS = 5;
/** How long a PAT's revocation status is trusted before it is read again (other replicas' revocations). */
const REVOCATION_TTL_MS = 5_000;
const LAST_USED_FLUSH_MS = 30_000;
const VERIFIED_CACHE_MAX = 10_000;

export interface IssuedToken extends IInsertAccessTokenResult {
  token: string;
}

/**
 * Tokens and authorization. Verifying an ES256 JWT costs tens of µs, so
 * verified tokens are cached (bounded, honouring exp); PAT revocation is
 * re-read at most every few seconds; `last_used_at` is written in one batched
 * UPDATE every 30 s, not per request. See docs/adr/0006-tokens.md.
 */
export class Auth {
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  private readonly revocation = new Map<string, { ok: boolean; checkedAtMs: number }>();
  private readonly used = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly key: SigningKey,
    private readonly config: Config,
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  // ---- issuing -------------------------------------------------------------

  /** A personal access token for `userId`: expires after `expiresInDays`, or never when null. */
  async issuePersonalToken(userId: string, name: string, expiresInDays: number | null): Promise<IssuedToken> {
    const jti = randomUUID();
    const expiresAt = expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 86_400_000);
    const [row] = await insertAccessToken.run({ jti, userId, name, expiresAt }, this.db.conn);
    const jwt = this.sign({ sub: `user:${userId}` }, jti, expiresAt);
    return { ...row!, token: await jwt };
  }

  /** A short-lived run token: reaches exactly the run's project. */
  async issueRunToken(runId: string): Promise<string> {
    const expiresAt = new Date(Date.now() + this.config.SANDBAR_RUN_TOKEN_TTL_SECONDS * 1000);
    return this.sign({ sub: `run:${runId}` }, randomUUID(), expiresAt);
  }

  private sign(claims: JWTPayload, jti: string, expiresAt: Date | null): Promise<string> {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: this.key.kid, typ: 'JWT' })
      .setIssuer(this.config.SANDBAR_JWT_ISSUER)
      .setAudience(this.config.SANDBAR_JWT_AUDIENCE)
      .setIssuedAt()
      .setJti(jti);
    if (expiresAt) jwt.setExpirationTime(Math.floor(expiresAt.getTime() / 1000));
    return jwt.sign(this.key.privateKey);
  }

  // ---- verifying -----------------------------------------------------------

  /** The principal of the request's bearer token; 401 (with WWW-Authenticate) for anything less than a valid one. */
  async authenticate(ctx: Context): Promise<Principal> {
    if (ctx.state.principal) return ctx.state.principal;
    const header = ctx.get('authorization');
    // RFC 9110 §11.1: the scheme is case-insensitive ("bearer" is as good as "Bearer"), and one or more spaces follow it.
    const match = /^Bearer +([A-Za-z0-9_.-]{1,4096})$/i.exec(header);
    if (!match) throw unauthorized(header ? 'Malformed Authorization header; expected "Bearer <token>".' : undefined);
    const principal = await this.verify(match[1]!);
    if (principal.kind === 'user') await this.assertNotRevoked(principal);
    ctx.state.principal = principal;
    return principal;
  }

  private async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > Date.now()) return cached.principal;
    if (cached) this.verified.delete(token);

    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, this.key.publicKey, {
        algorithms: [JWT_ALGORITHM],
        issuer: this.config.SANDBAR_JWT_ISSUER,
        audience: this.config.SANDBAR_JWT_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'jti', 'iat'],
      });
      // jose never trusts an embedded jwk/jku here (a fixed key is passed), but a kid naming another key is refused too.
      if (result.protectedHeader.kid !== this.key.kid) throw new Error('unknown kid');
      payload = result.payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('The token has expired.');
      throw unauthorized('The token is invalid.');
    }
    const principal = parseSubject(payload);
    // Run tokens must expire; a PAT may be non-expiring only when its owner asked (checked in the database).
    if (principal.kind === 'run' && payload.exp === undefined) throw unauthorized('The token is invalid.');
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
    const expiresAtMs = Math.min((payload.exp ?? Infinity) * 1000 + CLOCK_TOLERANCE_SECONDS * 1000, Date.now() + 3_600_000);
    this.verified.set(token, { principal, expiresAtMs });
    return principal;
  }

  private async assertNotRevoked(p: Extract<Principal, { kind: 'user' }>): Promise<void> {
    // Keyed by subject and jti: a token naming someone else's jti must not ride on its cached status.
    const cacheKey = `${p.userId}:${p.jti}`;
    const cached = this.revocation.get(cacheKey);
    let ok: boolean;
    if (cached && Date.now() - cached.checkedAtMs < REVOCATION_TTL_MS) {
      ok = cached.ok;
    } else {
      const [row] = await accessTokenStatus.run({ jti: p.jti }, this.db.conn);
      ok = !!row && row.user_id === p.userId && row.revoked_at === null && (row.expires_at === null || row.expires_at > new Date());
      if (this.revocation.size >= VERIFIED_CACHE_MAX) this.revocation.delete(this.revocation.keys().next().value!);
      this.revocation.set(cacheKey, { ok, checkedAtMs: Date.now() });
    }
    if (!ok) throw unauthorized('The token has been revoked.');
    this.used.add(p.jti);
  }

  /** Marks a token revoked in this replica at once (others notice within REVOCATION_TTL_MS). */
  forgetToken(userId: string, jti: string): void {
    this.revocation.set(`${userId}:${jti}`, { ok: false, checkedAtMs: Date.now() });
  }

  // ---- authorizing ---------------------------------------------------------

  /**
   * The caller's role in `projectId`, requiring `access`. A project the token
   * cannot reach is 404 — its existence is not revealed; one it reaches with
   * too small a role is 403.
   */
  async authorize(ctx: Context, projectId: string, access: Access): Promise<ProjectRole> {
    const principal = await this.authenticate(ctx);
    const { userId, runId } = principalIds(principal);
    const [row] = await projectRole.run({ projectId, userId, runId }, this.db.conn);
    return requireProjectRole(row?.role ?? null, access);
  }

  /** The user behind a personal access token; run tokens may not use user-only routes. */
  async requireUser(ctx: Context): Promise<Extract<Principal, { kind: 'user' }>> {
    const principal = await this.authenticate(ctx);
    if (principal.kind !== 'user') throw forbidden('This route needs a personal access token, not a run token.');
    return principal;
  }

  // ---- lifecycle -----------------------------------------------------------

  async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const jtis = [...this.used];
    this.used.clear();
    try {
      await touchAccessTokens.run({ jtis }, this.db.conn);
    } catch (error) {
      // Kept for the next flush (a read-only database, a failover): last_used_at is a hint, but
      // one that should not skip a period because the database could not take it then.
      for (const jti of jtis) this.used.add(jti);
      this.log.warn({ err: error }, 'could not record token last_used_at');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }
}

/**
 * authorize()'s verdict on a role a route fetched together with other things:
 * no role is 404 (the project's existence is not revealed), too small a role 403.
 */
export function requireProjectRole(role: ProjectRole | null, access: Access): ProjectRole {
  if (!role) throw notFound('No such project.');
  requireRoleAllows(role, access);
  return role;
}

/** 403 unless `role` (in a project the token reaches) is enough for `access`. */
export function requireRoleAllows(role: ProjectRole, access: Access): void {
  if (!roleAllows(role, access)) throw forbidden(`This needs the ${access} permission on the project.`);
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parseSubject(payload: JWTPayload): Principal {
  const [kind, id] = (payload.sub ?? '').split(':');
  if (id && uuid.test(id) && typeof payload.jti === 'string') {
    if (kind === 'user' && uuid.test(payload.jti)) return { kind: 'user', userId: id, jti: payload.jti };
    if (kind === 'run') return { kind: 'run', runId: id };
  }
  throw unauthorized('The token is invalid.');
}
