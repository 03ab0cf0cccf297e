import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';
import { badRequest, HttpError, unprocessable } from './errors.ts';

declare module 'koa' {
  interface Request {
    /** Set by jsonBody(): the parsed JSON object, or undefined when the request had no body. */
    body?: unknown;
    /** Set by jsonBody() with `body`: the text `body` was parsed from, for a handler that must let PostgreSQL parse it. */
    rawBody?: string;
  }
}

const methodsWithBody = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The content codings we decode (RFC 9110 §8.4: compared case-insensitively; x-gzip is gzip).
 * Unzip reads gzip and zlib alike, as co-body's inflation did. A list of codings is not accepted.
 */
const decoders: Readonly<Record<string, (() => Transform) | null>> = {
  identity: null,
  gzip: createUnzip,
  'x-gzip': createUnzip,
  deflate: createUnzip,
  br: createBrotliDecompress,
};

const tooLarge = () => new HttpError(413, 'payload_too_large', 'The request body is too large.');

/**
 * Parses JSON request bodies for POST/PUT/PATCH into ctx.request.body: a JSON
 * object (every body the API takes is one), in well-formed UTF-8, decoded
 * from one of `decoders`, at most `limitBytes` both as sent and as decoded.
 * A declared Content-Length over the limit is refused before reading, and a
 * chunked body as soon as it passes it, so an oversized upload is never
 * buffered whole.
 */
export function jsonBody(limitBytes: number) {
  return async function parseJsonBody(ctx: Context, next: Next): Promise<void> {
    if (methodsWithBody.has(ctx.method) && hasBody(ctx)) {
      if (!ctx.is('application/json', '+json')) {
        throw new HttpError(415, 'unsupported_media_type', 'Request bodies must be JSON (content-type: application/json).');
      }
      const parsed = parseJson(await readBody(ctx.req, limitBytes));
      ctx.request.body = parsed?.value;
      ctx.request.rawBody = parsed?.text;
    }
    await next();
  };
}

/** Whether a request declares a body larger than the limit (checked before reading, and before 100 Continue). */
export function declaresTooLarge(req: IncomingMessage, limitBytes: number): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > limitBytes;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const createDecoder = Object.hasOwn(decoders, coding) ? decoders[coding] : undefined;
  if (createDecoder === undefined) {
    throw new HttpError(415, 'unsupported_media_type', `Content-Encoding "${coding}" is not accepted; send identity, gzip, deflate or br.`);
  }
  if (declaresTooLarge(req, limit)) {
    discardRest(req);
    throw tooLarge();
  }
  const decoder = createDecoder?.();
  const stream = decoder ? decoding(req, decoder, limit) : req;
  try {
    // Without a coding the declared length is checked against what arrives; with one it measures the encoded bytes only.
    return await getRawBody(stream, { limit, length: decoder ? null : (req.headers['content-length'] ?? null) });
  } catch (error) {
    if (decoder) {
      req.unpipe(decoder);
      decoder.destroy();
    }
    if (!req.complete) discardRest(req);
    throw readError(error, decoder ? coding : undefined);
  }
}

/**
 * req piped through `decoder`. pipe() carries neither an aborted upload nor a limit on the encoded
 * bytes (a gzip stream may be followed by endless ignored garbage), so both are forwarded here as
 * errors: raw-body would otherwise wait on a decoder that never ends.
 */
function decoding(req: IncomingMessage, decoder: Transform, limit: number): Transform {
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) decoder.destroy(Object.assign(new Error('encoded body too large'), { status: 413 }));
  };
  const closed = () => {
    if (!req.complete) decoder.destroy(Object.assign(new Error('request aborted'), { status: 400 }));
  };
  req.on('data', count);
  req.once('close', closed);
  // raw-body drops its listeners once it is done; a late decoder error must not become an uncaught one.
  decoder.on('error', () => undefined);
  decoder.once('close', () => {
    req.off('data', count);
    req.off('close', closed);
  });
  return req.pipe(decoder);
}

/** raw-body's errors carry their status; anything else came from the decoder: the body is not what its coding says. */
function readError(error: unknown, coding: string | undefined): HttpError {
  const status = (error as { status?: unknown }).status;
  if (status === 413) return tooLarge();
  if (typeof status === 'number' && status >= 400 && status < 500) return badRequest('The request body could not be read.');
  if (coding) return badRequest(`The request body is not valid ${coding} data.`);
  throw error;
}

// One decoder for every request: without `stream`, decode() keeps no state between calls.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Buffer): { value: unknown; text: string } | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw unprocessable('The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw unprocessable('The request body must be a JSON object.');
  }
  // A lone surrogate or a "__proto__" key can only come from a \u escape or the literal name:
  // a body without either (nearly all of them) is not walked.
  if (text.includes('\\u') || text.includes('__proto__')) checkValues(value);
  return { value, text };
}

/**
 * Refuses what JSON.parse accepts but we cannot keep: strings that are not well-formed
 * Unicode ("\ud800" alone, which PostgreSQL would store as U+FFFD or refuse, depending on
 * the column), and "__proto__" keys (co-body's prototype-poisoning guard, kept).
 * Iterative and linear in the size of the body.
 */
function checkValues(root: object): void {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === 'string') {
      if (!node.isWellFormed()) throw unprocessable(notWellFormed);
    } else if (Array.isArray(node)) {
      for (const item of node) if (typeof item === 'object' || typeof item === 'string') pending.push(item);
    } else if (typeof node === 'object' && node !== null) {
      if (Object.hasOwn(node, '__proto__')) throw unprocessable('The request body must not contain a "__proto__" key.');
      // for…in: twice as fast as Object.entries here, and JSON.parse makes no inherited enumerable keys.
      for (const key in node) {
        if (!key.isWellFormed()) throw unprocessable(notWellFormed);
        const item = (node as Record<string, unknown>)[key];
        if (typeof item === 'object' || typeof item === 'string') pending.push(item);
      }
    }
  }
}
const notWellFormed = 'A string in the request body is not well-formed Unicode (a lone surrogate such as "\\ud800").';

/**
 * After an error the client may still be uploading. Closing the socket with its
 * data unread makes the kernel send RST, which can overtake the answer, so the
 * client sees a reset instead. Read and drop the rest (nothing is kept), and
 * cut the connection if the upload goes on for more than 5 s.
 */
const DISCARD_MS = 5_000;
export function discardRest(req: IncomingMessage): void {
  const timer = setTimeout(() => req.socket.destroy(), DISCARD_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return length !== '0';
  return ctx.get('transfer-encoding') !== '';
}
