import type { Context } from 'koa';
import { LongWorkQueueFull, TransactionRetryExhausted } from '../db/db.ts';

/**
 * The one error map: every failure a handler or the database raises becomes
 * an HTTP status and a body `{"error": code, "message": text}` here, and only
 * here. docs/errors.md lists every entry; test/sql/error-map.test.ts exercises each.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra fields merged into the JSON body (e.g. the current lock_version). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(400, 'bad_request', message, {}, extra);
export const unauthorized = (message = 'A valid bearer token is required.') =>
  new HttpError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer realm="sandbar"' });
export const forbidden = (message = 'This token may not do that.') => new HttpError(403, 'forbidden', message);
export const notFound = (message = 'Not found.') => new HttpError(404, 'not_found', message);
export const conflict = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(409, 'conflict', message, {}, extra);
export const unprocessable = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(422, 'invalid', message, {}, extra);

interface Mapping {
  status: number;
  error: string;
  message: string;
  retryAfter?: boolean;
}

const unavailable: Mapping = {
  status: 503,
  error: 'database_unavailable',
  message: 'The database is unavailable; try again shortly.',
  retryAfter: true,
};

/** Every long-pool slot is held (streams, merges, big deletes) and none came free in time. */
const longWorkBusy: Mapping = {
  status: 503,
  error: 'busy',
  message: 'Too many streams, merges or large deletes are running; try again.',
  retryAfter: true,
};

/** Standard SQLSTATEs a client can provoke, and what each means for the client. */
export const sqlstateMap: Readonly<Record<string, Mapping>> = {
  '23505': { status: 409, error: 'conflict', message: 'That conflicts with an existing record.' },
  '23P01': { status: 409, error: 'conflict', message: 'That conflicts with an existing record.' },
  '23514': { status: 422, error: 'invalid', message: 'A value failed validation.' },
  '23502': { status: 422, error: 'invalid', message: 'A required value is missing.' },
  '22001': { status: 422, error: 'invalid', message: 'A value is too long.' },
  '22P05': { status: 422, error: 'invalid', message: 'A value contains a character that cannot be stored (\\u0000).' },
  '22021': { status: 422, error: 'invalid', message: 'A value contains a character that cannot be stored (NUL byte or invalid UTF-8).' },
  '428C9': { status: 422, error: 'invalid', message: 'A generated column cannot be written.' },
  '22P02': { status: 400, error: 'bad_request', message: 'A value has an invalid format.' },
  '22007': { status: 400, error: 'bad_request', message: 'A date or time has an invalid format.' },
  '22008': { status: 400, error: 'bad_request', message: 'A date or time is out of range.' },
  '22009': { status: 400, error: 'bad_request', message: 'A time zone offset is out of range.' },
  '22003': { status: 400, error: 'bad_request', message: 'A number is out of range.' },
  '22023': { status: 400, error: 'bad_request', message: 'A parameter has an invalid value.' },
  '2201W': { status: 400, error: 'bad_request', message: 'A limit is out of range.' },
  '2201X': { status: 400, error: 'bad_request', message: 'An offset is out of range.' },
  '40001': { status: 503, error: 'busy', message: 'The database is busy; try again.', retryAfter: true },
  '40P01': { status: 503, error: 'busy', message: 'The database is busy; try again.', retryAfter: true },
  '55P03': { status: 503, error: 'busy', message: 'The resource is locked; try again.', retryAfter: true },
  '57014': { status: 503, error: 'timeout', message: 'The operation took too long and was cancelled.', retryAfter: true },
  // A write reached a server that takes none: a standby (DATABASE_URL still naming the old primary
  // after a failover) or a database set to default_transaction_read_only for maintenance. Neither
  // the client's fault nor a bug, so not a 500: retry once the database takes writes again.
  '25006': { status: 503, error: 'database_read_only', message: 'The database takes no writes right now; try again shortly.', retryAfter: true },
  '53300': unavailable,
  '57P01': unavailable,
  '57P02': unavailable,
  '57P03': unavailable,
  '08000': unavailable,
  '08001': unavailable,
  '08003': unavailable,
  '08004': unavailable,
  '08006': unavailable,
};

/** postgres.js and socket errors that mean "no database right now". */
const connectionErrors = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** Our own SQLSTATEs: 'SB' + the HTTP status, raised from PL/pgSQL (see docs/errors.md). */
const customSqlstate = /^SB(4\d\d)$/;

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  constraint_name?: string;
}

/** Turns any thrown value into an HttpError, or undefined when it is a bug (→ 500). */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof TransactionRetryExhausted) return fromMapping(sqlstateMap['40001']!);
  if (error instanceof LongWorkQueueFull) return fromMapping(longWorkBusy);
  const e = error as PgLikeError & { status?: number; expose?: boolean };
  if (typeof e !== 'object' || e === null) return undefined;
  // The body parser (body.ts) throws HttpErrors; this is the backstop for an http-errors error from a
  // middleware library, whose `expose` says its message is meant for the client.
  if (typeof e.status === 'number' && e.expose && e.status >= 400 && e.status < 500) return fromExposed(e.status, e.message);
  const code = e.code ?? '';
  const custom = customSqlstate.exec(code);
  if (custom) {
    // `raise … using errcode = 'SB404', message = 'workflow_not_found', detail = '…'`
    const extra = parseHint(e.hint);
    return new HttpError(Number(custom[1]), e.message ?? 'error', e.detail ?? e.message ?? '', {}, extra);
  }
  if (code === '23503') {
    // Inserting a reference to a missing row is bad input; deleting a row still referenced is a conflict.
    return /still referenced/.test(e.detail ?? '')
      ? new HttpError(409, 'conflict', 'The record is still referenced by others.')
      : new HttpError(422, 'invalid', 'A referenced record does not exist.');
  }
  const mapped = sqlstateMap[code];
  if (mapped) return fromMapping(mapped, e.constraint_name);
  if (connectionErrors.has(code)) return fromMapping(unavailable);
  return undefined;
}

function fromMapping(m: Mapping, constraint?: string): HttpError {
  const headers: Record<string, string> = m.retryAfter ? { 'retry-after': '1' } : {};
  const message = constraint ? `${m.message} (${constraint})` : m.message;
  return new HttpError(m.status, m.error, message, headers);
}

function fromExposed(status: number, message: string | undefined): HttpError {
  switch (status) {
    case 413:
      return new HttpError(413, 'payload_too_large', 'The request body is too large.');
    case 415:
      return new HttpError(415, 'unsupported_media_type', message ?? 'Unsupported media type.');
    default:
      return new HttpError(status, 'bad_request', message ?? 'Bad request.');
  }
}

/** A PL/pgSQL function may pass structured details as JSON in HINT (e.g. {"lock_version": 3}). */
function parseHint(hint: string | undefined): Record<string, unknown> {
  if (!hint?.startsWith('{')) return {};
  try {
    const parsed = JSON.parse(hint) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Writes an HttpError onto the response. */
/** The JSON body of an error: `{"error": code, "message": text}` and its extra fields. */
export function errorJson(error: HttpError): Record<string, unknown> {
  // Extra fields (e.g. from a PL/pgSQL JSON hint) never replace the error code or message.
  const { error: _error, message: _message, ...extra } = error.extra;
  return { error: error.code, message: error.message, ...extra };
}

export function respondWithError(ctx: Context, error: HttpError): void {
  ctx.status = error.status;
  for (const [k, v] of Object.entries(error.headers)) ctx.set(k, v);
  ctx.body = errorJson(error);
}
