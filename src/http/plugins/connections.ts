// What one client can hold of the server: time to send a request, idle time between requests, and
// a share of a capped number of connections.
//   - HEADERS_TIMEOUT_MS: a request's headers must arrive within it (from connecting, or from the
//     start of the next request on a kept-alive connection);
//   - REQUEST_TIMEOUT_MS: the whole request, body included, must arrive within it;
//   a client too slow for either is answered 408 (in its API's error shape when the path is known)
//   and disconnected, so a client that trickles a body a byte at a time holds nothing for long;
//   - KEEP_ALIVE_TIMEOUT_MS: a kept-alive connection idle that long is closed;
//   - MAX_CONNECTIONS: connections beyond it are closed as soon as they are accepted, so the process
//     keeps file descriptors for its database and makePayment calls, and serves again once below it.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { familyOf } from './errors.ts';

type Limits = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections'>;

/** The latest request on each connection, so a timeout while its body arrives is answered in its API's shape. */
const latest = new WeakMap<Socket, { request: FastifyRequest; reply: FastifyReply }>();

/** Fastify's options for the timeouts (and the answer to a client that is too slow or malformed). */
export function connectionOptions(limits: Limits, log: FastifyBaseLogger): {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
  clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => void;
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node looks for requests past their timeouts this often (by default every 30 s, which would
      // let a slow client hold on far longer than the timeout says).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, log),
  };
}

/** Caps connections and remembers the request on each, for connectionOptions' 408 answers. */
export function registerConnectionLimits(app: FastifyInstance, limits: Limits): void {
  app.server.maxConnections = limits.maxConnections;
  let refused = 0;
  let reportedAt = 0;
  app.server.on('drop', () => {
    refused += 1;
    const now = Date.now();
    if (now - reportedAt < 10_000) return;
    app.log.warn({ refused, maxConnections: limits.maxConnections }, 'connections refused: MAX_CONNECTIONS reached');
    reportedAt = now;
    refused = 0;
  });
  app.addHook('onRequest', (request, reply, done) => {
    latest.set(request.raw.socket, { request, reply });
    done();
  });

  // Once closing begins Node stops enforcing the header and request timeouts, so a client still
  // sending (or not sending) a request would keep close() waiting for ever. REQUEST_TIMEOUT_MS after
  // close begins, every connection that is not carrying an answer still being made is answered 408
  // and closed; requests being handled are left to finish.
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', (done) => {
    const timer = setTimeout(() => {
      const timeout = Object.assign(new Error('request timeout during shutdown'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
      for (const socket of open) {
        const entry = latest.get(socket);
        const handling = entry && entry.request.raw.complete && !entry.reply.raw.writableFinished;
        if (!handling) answerClientError(timeout, socket, app.log);
      }
    }, limits.requestTimeoutMs);
    timer.unref();
    app.server.once('close', () => clearTimeout(timer));
    done();
  });
}

function answerClientError(error: Error & { code?: string }, socket: Socket, log: FastifyBaseLogger): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = 'The request could not be read.';
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'The request did not arrive in time (HEADERS_TIMEOUT_MS for its headers, REQUEST_TIMEOUT_MS for all of it); the connection is closed.';
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'The request headers are too large.';
  }
  // The request still arriving on this connection, if its headers did (a complete one is an earlier
  // request on a kept-alive connection, and the error is about the next one).
  const entry = latest.get(socket);
  const current = entry && !entry.request.raw.complete ? entry : undefined;
  if (current) {
    log.info({ reqId: current.request.id, method: current.request.method, path: current.request.url.split('?')[0], statusCode: status, code: error.code }, 'request not received; connection closed');
  } else {
    log.debug({ code: error.code, statusCode: status }, 'client error; connection closed');
  }
  // No second answer to a request answered before its body arrived (a 401 for a bad token, say).
  if (socket.writable && !current?.reply.raw.headersSent) {
    // Like every answer of the application, one to a known request carries nosniff; an answer to
    // bytes that never became a request (headers too slow or too large) is the HTTP layer's own.
    const { type, body } = errorBody(current?.request, status, message);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `${current ? 'X-Content-Type-Options: nosniff\r\n' : ''}Connection: close\r\n\r\n${body}`);
  }
  if (current && current.request.raw.listenerCount('error') > 0) {
    // The body is being read: end that read with this error rather than the socket's "aborted" one,
    // which the error handler would take for a lost database connection. This closes the socket too.
    current.request.raw.destroy(Object.assign(new Error(message), { code: error.code, statusCode: status }));
  } else {
    socket.destroy();
  }
}

/** The error in the shape of the request's API (see plugins/errors.ts); problem details when unknown. */
function errorBody(request: FastifyRequest | undefined, status: number, message: string): { type: string; body: string } {
  const contextId = request?.id ?? randomUUID();
  const family = request ? familyOf(request.url) : 'problem';
  if (family === 'psp') {
    return { type: 'application/json;charset=UTF-8', body: JSON.stringify([{ errorCode: String(status), errorMessage: message, contextId }]) };
  }
  if (family === 'token') {
    return { type: 'application/json', body: JSON.stringify({ statusCode: status, error: String(status), message, contextId }) };
  }
  return {
    type: 'application/problem+json',
    body: JSON.stringify({ type: `about:blank#${status}`, title: STATUS_CODES[status], status, detail: message, instance: `urn:uuid:${contextId}` }),
  };
}
