// What a client can hold of the server: a request that arrives too slowly (headers or body) is
// answered 408 and its connection closed; an idle kept-alive connection is closed; connections over
// MAX_CONNECTIONS are refused while the ones below it are served; closing the server does not wait for
// idle or slow clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { pspHeaders, startTestServer, type TestServer } from '../support/server.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Exchange {
  /** Everything the server sent. */
  received: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes this client sent. */
  sent: number;
}

/**
 * Connects, writes `head`, then (with `trickle`) one more byte every 200 ms, until the server closes
 * the connection; fails if it is still open after `giveUpMs`.
 */
function exchange(port: number, head: string, opts: { trickle?: boolean; giveUpMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    let sent = 0;
    const socket = net.connect(port, '127.0.0.1', () => {
      if (head) socket.write(head);
      sent += Buffer.byteLength(head);
    });
    const trickle = opts.trickle ? setInterval(() => {
      if (socket.writable) {
        socket.write('a');
        sent += 1;
      }
    }, 200) : undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${opts.giveUpMs ?? 8000} ms; received ${JSON.stringify(received)}`));
    }, opts.giveUpMs ?? 8000);
    socket.on('data', (d: Buffer) => { received += d.toString(); });
    socket.on('error', () => { /* a reset also ends the exchange */ });
    socket.on('close', () => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      resolve({ received, closedAfterMs: Date.now() - started, sent });
    });
  });
}

function requestHead(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** The status code and JSON body of each HTTP response in `raw`. */
function responses(raw: string): Array<{ status: number; body: any }> {
  const out: Array<{ status: number; body: any }> = [];
  for (const part of raw.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean)) {
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(part)?.[1]);
    const text = part.slice(part.indexOf('\r\n\r\n') + 4);
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    out.push({ status, body });
  }
  return out;
}

/** GET /health on a connection of its own; the status, or the connection error's code. */
function health(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const portOf = (server: TestServer) => Number(new URL(server.url).port);

describe('request timeouts (REQUEST_TIMEOUT_MS=1000, HEADERS_TIMEOUT_MS=1000, KEEP_ALIVE_TIMEOUT_MS=500)', () => {
  let server: TestServer;
  let port: number;
  let auth: Record<string, string>;

  before(async () => {
    server = await startTestServer({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000', KEEP_ALIVE_TIMEOUT_MS: '500' });
    port = portOf(server);
    auth = await pspHeaders(server.url);
  });
  after(async () => { await server.close(); });

  it('a body trickled a byte every 200 ms is answered 408 in ErrorDetails and the connection closed', async () => {
    const head = requestHead('POST', '/psp/v3/psppayments/updatestatus', { ...auth, 'content-type': 'application/json', 'content-length': '100' });
    const result = await exchange(port, head, { trickle: true });
    const [answer, ...more] = responses(result.received);
    assert.equal(answer?.status, 408, result.received);
    assert.equal(more.length, 0, 'one answer');
    assert.ok(Array.isArray(answer.body) && answer.body.length === 1, result.received);
    assert.equal(answer.body[0].errorCode, '408');
    assert.match(answer.body[0].contextId, UUID);
    assert.ok(result.sent - Buffer.byteLength(head) < 100, 'the body never arrived in full');
    assert.ok(result.closedAfterMs >= 900, `not closed before the timeout (${result.closedAfterMs} ms)`);
  });

  it('headers trickled a byte every 200 ms are answered 408 and the connection closed', async () => {
    const result = await exchange(port, 'POST /psp/v3/psppayments/init HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', { trickle: true });
    const [answer, ...more] = responses(result.received);
    assert.equal(answer?.status, 408, result.received);
    assert.equal(more.length, 0);
    assert.equal(answer.body.status, 408, 'problem details, as the path is not known yet');
  });

  it('a connection that sends nothing is closed', async () => {
    const result = await exchange(port, '');
    assert.ok(result.closedAfterMs >= 900, `${result.closedAfterMs} ms`);
  });

  it('a request answered before its body arrived gets that one answer, and the connection is still closed', async () => {
    const head = requestHead('POST', '/psp/v3/psppayments/updatestatus', { 'content-type': 'application/json', 'content-length': '100' });
    const result = await exchange(port, head, { trickle: true });
    const answers = responses(result.received);
    assert.deepEqual(answers.map((a) => a.status), [401], result.received);
  });

  it('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const result = await exchange(port, requestHead('GET', '/health', {}));
    assert.deepEqual(responses(result.received).map((a) => a.status), [200]);
    assert.ok(result.closedAfterMs >= 400, `kept alive for a while first (${result.closedAfterMs} ms)`);
  });

  it('a request sent promptly is served as before', async () => {
    const body = JSON.stringify({ transactions: [] });
    const head = requestHead('POST', '/psp/v3/psppayments/updatestatus', {
      ...auth, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close',
    });
    const result = await exchange(port, head + body);
    assert.deepEqual(responses(result.received).map((a) => a.status), [200], result.received);
  });
});

describe('connection cap (MAX_CONNECTIONS=4)', () => {
  let server: TestServer;
  let port: number;

  before(async () => {
    server = await startTestServer({ MAX_CONNECTIONS: '4' });
    port = portOf(server);
  });
  after(async () => { await server.close(); });

  it('refuses connections over the cap, and serves again once below it', async () => {
    assert.equal(await health(port), 200);
    const holders: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      holders.push(socket);
    }
    try {
      // The server may not have counted the last holder yet when the first extra connection arrives.
      let refused: number | string = 200;
      for (let i = 0; i < 20 && refused === 200; i++) refused = await health(port);
      assert.notEqual(refused, 200, 'a connection over the cap is not served');
      assert.notEqual(await health(port), 200, 'nor the next one');
      holders.pop()!.destroy();
      let served: number | string = 0;
      for (let i = 0; i < 50 && served !== 200; i++) {
        served = await health(port);
        if (served !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(served, 200, 'served again below the cap');
    } finally {
      for (const socket of holders) socket.destroy();
    }
  });
});

describe('closing the server', () => {
  it('does not wait for idle kept-alive connections, and waits for a slow client no longer than REQUEST_TIMEOUT_MS', async () => {
    const server = await startTestServer({ REQUEST_TIMEOUT_MS: '2000' });
    const port = portOf(server);
    const auth = await pspHeaders(server.url);
    const idle = exchange(port, requestHead('GET', '/health', {}), { giveUpMs: 20_000 });
    const slow = exchange(port, requestHead('POST', '/psp/v3/psppayments/updatestatus', { ...auth, 'content-type': 'application/json', 'content-length': '100' }), { trickle: true, giveUpMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await server.close();
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 10_000, `close took ${tookMs} ms`);
    const [idleResult, slowResult] = await Promise.all([idle, slow]);
    assert.deepEqual(responses(idleResult.received).map((a) => a.status), [200]);
    assert.deepEqual(responses(slowResult.received).map((a) => a.status), [408], slowResult.received);
  });
});
