import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import { declaresTooLarge } from './body.ts';
import { errorJson, HttpError } from './errors.ts';

export interface HttpServer {
  server: http.Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish for up to `timeoutMs`, then cuts the rest. */
  close(timeoutMs: number): Promise<void>;
}

export interface ListenOptions {
  /** SANDBAR_BODY_LIMIT_BYTES: a request with `Expect: 100-continue` declaring more gets no 100 Continue. */
  bodyLimitBytes?: number;
}

export async function listen(koa: Koa, host: string, port: number, options: ListenOptions = {}): Promise<HttpServer> {
  const handle = koa.callback();
  // Node enforces headersTimeout/requestTimeout only when it sweeps connections (every 30 s by
  // default), so a slow-loris client could live 45 s; sweep every 2 s.
  const server = http.createServer({ connectionsCheckingInterval: 2_000 }, handle);
  const { bodyLimitBytes } = options;
  if (bodyLimitBytes !== undefined) {
    // Node answers 100 Continue to every `Expect: 100-continue` unless told otherwise, and the client
    // then uploads the whole body only to hear 413. Without the 100, Koa's body parser refuses it from
    // the declared length before the client sends any of it.
    server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (!declaresTooLarge(req, bodyLimitBytes)) res.writeContinue();
      void handle(req, res);
    });
  }
  // Node's own answers to what it refuses itself bypass Koa: a bare status line without our JSON
  // body or request id. Give them both.
  server.on('checkExpectation', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    const error = new HttpError(417, 'expectation_failed', 'The only Expect this server meets is 100-continue.');
    const body = errorBody(error);
    res.writeHead(error.status, { ...body.headers, connection: 'close' }).end(body.text);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's default handler: answer only while no response of this connection has started.
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const mapped = clientError(error.code);
      const body = errorBody(mapped);
      const head = Object.entries({ ...body.headers, connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`HTTP/1.1 ${mapped.status} ${http.STATUS_CODES[mapped.status]}\r\n${head.join('')}\r\n${body.text}`);
    }
    socket.destroy(error);
  });
  // Slow-loris defences: a client must send its headers and body in bounded time.
  server.headersTimeout = 15_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    async close(timeoutMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/** What Node's HTTP parser refuses, and what that means to the client (Node's own default statuses). */
function clientError(code: string | undefined): HttpError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'headers_too_large', 'The request line and headers are too large (16 KiB at most).');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new HttpError(413, 'payload_too_large', 'The chunk extensions of the request body are too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(408, 'request_timeout', 'The request headers or body took too long to arrive.');
    default:
      return new HttpError(400, 'bad_request', 'The request is not valid HTTP/1.1.');
  }
}

/** An error answered outside Koa: the body respondWithError would give, with the headers Koa would add. */
function errorBody(error: HttpError): { headers: Record<string, string>; text: string } {
  const text = JSON.stringify(errorJson(error));
  return {
    headers: {
      ...error.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'x-request-id': randomUUID(),
    },
    text,
  };
}
