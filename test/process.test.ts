// The server as operators run it: `vipps-psp start` as a real child process. The banner, JSON log
// lines without secrets, graceful shutdown on SIGTERM, crash safety after SIGKILL, and `migrate`.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN, databaseImageFile, DEMO, freshPostgresDatabase } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const START_TIMEOUT_MS = 60_000;

// ---- resources, released in after() whatever happened --------------------------------------------

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all([...children].map((child) => exited(child)));
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Fresh data for one scenario: a temp DATA_DIR, and a fresh PostgreSQL database when DATABASE_URL is set. */
async function freshData(): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vipps-psp-process-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  // A new DATA_DIR is unpacked from the migrated database image, as the built package does (support/server.ts).
  const env: Record<string, string> = { DATA_DIR: dataDir, VIPPS_PSP_DATABASE_IMAGE: await databaseImageFile() };
  if (process.env.DATABASE_URL) {
    const db = await freshPostgresDatabase(process.env.DATABASE_URL);
    cleanups.push(() => db.drop());
    env.DATABASE_URL = db.url;
  }
  return env;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

let seq = 0;
function uniqueId(label: string): string {
  seq += 1;
  return `${label}-${Date.now().toString(36)}-${seq}`;
}

// ---- a server process ----------------------------------------------------------------------------

class ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  stdout = '';
  stderr = '';

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; });
  }

  /** Runs `src/cli/main.ts <args>` with exactly the configuration given (nothing from this process's environment). */
  static spawn(args: string[], env: Record<string, string>, port = 0): ServerProcess {
    const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    return new ServerProcess(child, port);
  }

  static async start(data: Record<string, string>, extra: Record<string, string> = {}): Promise<ServerProcess> {
    const port = await freePort();
    const server = ServerProcess.spawn(['start'], {
      PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ADMIN_TOKEN, ...data, ...extra,
    }, port);
    await server.ready();
    return server;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exit() {
    return exited(this.child);
  }

  output(): string {
    return `--- stdout\n${this.stdout.slice(-4000)}\n--- stderr\n${this.stderr.slice(-4000)}`;
  }

  /** Polls GET /ready until it answers 200. */
  async ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the server exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready\n${this.output()}`);
      try {
        const response = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(2000) });
        await response.text();
        if (response.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`the server was not ready within ${START_TIMEOUT_MS} ms\n${this.output()}`);
  }

  /** Waits until stdout holds a line for which `match` is true (JSON log lines only). */
  async logLine(match: (entry: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = jsonLines(this.stdout).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such log line within ${ms} ms\n${this.output()}`);
      await sleep(50);
    }
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exit();
  }
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

interface Reply {
  status: number;
  text: string;
  body: any;
}

async function request(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<Reply> {
  const headers = { ...(opts.headers ?? {}) };
  let body = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, body: parsed };
}

const tokenHeaders = {
  client_id: DEMO.psp.clientId,
  client_secret: DEMO.psp.clientSecret,
  'ocp-apim-subscription-key': DEMO.psp.subscriptionKey,
};

async function accessToken(base: string): Promise<string> {
  const answer = await request(base, 'POST', '/accessToken/get', { headers: tokenHeaders });
  assert.equal(answer.status, 200, answer.text);
  return answer.body.access_token as string;
}

function pspHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'ocp-apim-subscription-key': DEMO.psp.subscriptionKey,
    'psp-id': DEMO.psp.pspId,
    'merchant-serial-number': DEMO.msn,
  };
}

/** Initiates a payment whose makePayment goes to `makePaymentUrl`; returns the id and the redirect token. */
async function initiate(base: string, headers: Record<string, string>, id: string, makePaymentUrl: string): Promise<string> {
  const answer = await request(base, 'POST', '/psp/v3/psppayments/init', {
    headers,
    body: {
      pspTransactionId: id, merchantOrderId: id, amount: 1000, currency: 'NOK', paymentText: 'Process test',
      pspRedirectUrl: 'https://psp.example.com/return', makePaymentUrl, makePaymentToken: 'Bearer psp-side-secret-token',
    },
  });
  assert.equal(answer.status, 200, answer.text);
  const token = new URL(answer.body.vippsRedirectUrl).searchParams.get('token');
  assert.ok(token, answer.text);
  return token;
}

function forceApprove(base: string, headers: Record<string, string>, id: string, token: string): Promise<Reply> {
  return request(base, 'POST', `/psp/v3/integration-test/psppayments/${id}/approve`, {
    headers, body: { customerPhoneNumber: DEMO.userPhone, token },
  });
}

/** The banner's text within stdout: from its first line to the end of the curl command. */
function bannerRange(stdout: string): [number, number] {
  const first = stdout.indexOf('  vipps-psp is listening on');
  assert.ok(first >= 0, `banner in stdout:\n${stdout}`);
  const start = stdout.lastIndexOf('\n', first) + 1;
  const curlEnd = stdout.indexOf("--data ''", first);
  assert.ok(curlEnd > first, 'the banner ends with the curl line');
  const end = stdout.indexOf('\n', curlEnd);
  return [start, end < 0 ? stdout.length : end + 1];
}

// ---- tests ---------------------------------------------------------------------------------------

describe('the server as a child process', { timeout: 240_000 }, () => {
  describe('banner and logs', () => {
    let server: ServerProcess;

    it('prints a banner with the URL, the environment and the demo credentials', { timeout: START_TIMEOUT_MS + 10_000 }, async () => {
      server = await ServerProcess.start(await freshData());
      const [start, end] = bannerRange(server.stdout);
      const banner = server.stdout.slice(start, end);
      assert.ok(banner.includes(`vipps-psp is listening on http://localhost:${server.port}`), banner);
      assert.ok(banner.includes(`127.0.0.1:${server.port}`), banner);
      assert.match(banner, /environment: test\b/);
      assert.ok(banner.includes(DEMO.psp.pspId), 'the demo Psp-Id');
      assert.equal(DEMO.psp.pspId, 'C948DFD1546347568874C4DDC93A2E3C');
      assert.ok(banner.includes(`client_id:                 ${DEMO.psp.clientId}`), 'the client_id');
      assert.ok(banner.includes(`curl -X POST http://localhost:${server.port}/accessToken/get`), 'a curl line for /accessToken/get');
      assert.ok(banner.includes(`-H "client_id: ${DEMO.psp.clientId}"`), banner);
      assert.ok(!banner.includes(ADMIN_TOKEN), 'an ADMIN_TOKEN that was set is not printed');
    });

    it('logs JSON lines; a failed PSP API request carries a contextId found in its log line; no secret is logged', { timeout: 30_000 }, async () => {
      assert.ok(server?.running, 'the server of the previous test runs');
      const [, bannerEnd] = bannerRange(server.stdout);
      const token = await accessToken(server.url);
      const headers = pspHeaders(token);

      // Requests that carry every secret in headers (and once in a body), answered with errors.
      const bad = await request(server.url, 'POST', '/psp/v3/psppayments/init', { headers, body: { amount: 'many', pspTransactionId: '' } });
      assert.equal(bad.status, 400, bad.text);
      assert.ok(Array.isArray(bad.body) && bad.body.length > 0, bad.text);
      for (const entry of bad.body) {
        assert.deepEqual(Object.keys(entry).sort(), ['contextId', 'errorCode', 'errorMessage']);
        assert.match(entry.contextId, UUID);
      }
      const contextId = bad.body[0].contextId as string;
      assert.ok(bad.body.every((e: { contextId: string }) => e.contextId === contextId), 'one contextId per answer');
      const others = [
        await request(server.url, 'POST', '/accessToken/get', {
          headers: { ...tokenHeaders, 'content-type': 'application/x-www-form-urlencoded' },
          raw: `client_id=${DEMO.psp.clientId}&client_secret=${encodeURIComponent(DEMO.psp.clientSecret)}`,
        }),
        await request(server.url, 'POST', '/accessToken/get', { headers: { ...tokenHeaders, client_secret: `${DEMO.psp.clientSecret}x` } }),
        await request(server.url, 'GET', `/psp/v3/psppayments/${uniqueId('nope')}/details`, { headers }),
        await request(server.url, 'GET', `/psp/v3/psppayments/${uniqueId('nope')}/details`, { headers: { ...headers, authorization: `Bearer ${token}x` } }),
        await request(server.url, 'GET', `/psp/v3/psppayments/${uniqueId('nope')}/details`, { headers: { ...headers, 'psp-id': 'ABCDEF' } }),
        await request(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...headers, 'content-type': 'application/json' }, raw: `{"makePaymentToken": "${token}", ` }),
      ];
      assert.deepEqual(others.map((a) => a.status), [200, 401, 404, 401, 403, 400], others.map((a) => a.text).join('\n'));

      // The failed request's log line names its contextId and what happened.
      const line = await server.logLine((e) => e.reqId === contextId && e.msg === 'request');
      assert.equal(line.method, 'POST');
      assert.equal(line.path, '/psp/v3/psppayments/init');
      assert.equal(line.statusCode, 400);
      assert.equal(line.pspId, DEMO.psp.pspId);
      assert.equal(typeof line.level, 'number');
      assert.equal(typeof line.time, 'number');
      // Wait for the last request's line, so everything the requests caused has been written.
      await server.logLine((e) => e.msg === 'request' && e.statusCode === 400 && e.reqId !== contextId);

      // Outside the banner, stdout is JSON lines only.
      const [bannerStart] = bannerRange(server.stdout);
      const logs = server.stdout.slice(0, bannerStart) + server.stdout.slice(bannerEnd);
      const lines = logs.split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length >= 8, `log lines: ${lines.length}`);
      for (const l of lines) {
        let entry: unknown;
        assert.doesNotThrow(() => { entry = JSON.parse(l); }, `not a JSON line: ${l}`);
        assert.equal(typeof entry, 'object');
        assert.equal((entry as { service?: string }).service, 'vipps-psp', l);
      }

      // No secret the requests sent appears in the log lines or on stderr.
      const signature = token.split('.')[2];
      const after = server.stdout.slice(bannerEnd) + server.stderr;
      for (const [name, secret] of [
        ['client_secret', DEMO.psp.clientSecret], ['client_secret (URL-encoded)', encodeURIComponent(DEMO.psp.clientSecret)],
        ['subscription key', DEMO.psp.subscriptionKey], ['access token', token], ['access token signature', signature],
      ] as const) {
        assert.ok(!after.includes(secret), `${name} appears in the output after the banner`);
      }
    });

    it('SIGTERM stops it cleanly: exit code 0', { timeout: 30_000 }, async () => {
      assert.ok(server?.running);
      server.child.kill('SIGTERM');
      const { code, signal } = await server.exit();
      assert.equal(signal, null);
      assert.equal(code, 0, server.output());
    });
  });

  it('SIGTERM while a makePayment is slow: the request in flight completes with 200, then the process exits 0', { timeout: START_TIMEOUT_MS + 30_000 }, async (t) => {
    const stub = await PspStub.start();
    t.after(() => stub.close());
    const server = await ServerProcess.start(await freshData());
    const headers = pspHeaders(await accessToken(server.url));
    const id = uniqueId('sigterm');
    stub.on(id, { kind: 'slow', ms: 1500 });
    const token = await initiate(server.url, headers, id, stub.url);

    const started = Date.now();
    const approve = forceApprove(server.url, headers, id, token);
    await stub.waitForCalls(id, 1);
    await sleep(Math.max(0, 300 - (Date.now() - started)));
    assert.ok(server.running, 'still running before SIGTERM');
    server.child.kill('SIGTERM');
    const sentAt = Date.now();

    // New work is refused while the request in flight finishes.
    await sleep(100);
    const during = await request(server.url, 'GET', '/ready').then((a) => a.status, (err: Error) => err.name);
    assert.notEqual(during, 200, 'no new requests are served after SIGTERM');

    const answer = await approve;
    assert.equal(answer.status, 200, `${answer.text}\n${server.output()}`);
    const { code, signal } = await server.exit();
    const exitedAt = Date.now();
    assert.equal(signal, null);
    assert.equal(code, 0, server.output());
    assert.ok(exitedAt - sentAt >= 800, `the process waited for the slow makePayment (exited ${exitedAt - sentAt} ms after SIGTERM)`);
    assert.equal(stub.callsFor(id).length, 1, 'one makePayment');
    const shutdown = jsonLines(server.stdout).find((e) => e.signal === 'SIGTERM');
    assert.ok(shutdown, `a log line tells about the SIGTERM\n${server.output()}`);
  });

  it('SIGKILL while makePayment is unanswered: after a restart on the same data the payment is FAILED, logged once', { timeout: 2 * START_TIMEOUT_MS + 40_000 }, async (t) => {
    const stub = await PspStub.start();
    t.after(() => stub.close());
    const data = await freshData();
    // The lease of a delivery is computed from the MAKE_PAYMENT_TIMEOUT_MS of the process that sent it.
    const first = await ServerProcess.start(data, { MAKE_PAYMENT_TIMEOUT_MS: '500' });
    const headers = pspHeaders(await accessToken(first.url));
    const id = uniqueId('crash');
    stub.on(id, { kind: 'hang' });
    const token = await initiate(first.url, headers, id, stub.url);

    const approve = forceApprove(first.url, headers, id, token).then(
      (a) => ({ status: a.status, text: a.text }),
      (err: Error) => ({ status: 0, text: String(err) }),
    );
    await stub.waitForCalls(id, 1);
    first.child.kill('SIGKILL');
    const killed = await first.exit();
    assert.equal(killed.signal, 'SIGKILL');
    const lost = await approve;
    assert.equal(lost.status, 0, `the approve request died with the process: ${lost.text}`);

    const second = await ServerProcess.start(data, { MAKE_PAYMENT_TIMEOUT_MS: '300', SWEEP_INTERVAL_MS: '100' });
    const headers2 = pspHeaders(await accessToken(second.url));
    const deadline = Date.now() + 20_000;
    let details: Reply;
    for (;;) {
      details = await request(second.url, 'GET', `/psp/v3/psppayments/${id}/details`, { headers: headers2 });
      assert.equal(details.status, 200, details.text);
      if (details.body.transactionLogHistory.length > 0) break;
      assert.ok(Date.now() < deadline, `the abandoned delivery was not resolved in time: ${details.text}\n${second.output()}`);
      await sleep(200);
    }
    // Several more sweeps: nothing is logged twice.
    await sleep(600);
    details = await request(second.url, 'GET', `/psp/v3/psppayments/${id}/details`, { headers: headers2 });
    const history = details.body.transactionLogHistory as Array<Record<string, unknown>>;
    assert.equal(history.length, 1, details.text);
    assert.equal(history[0].operation, 'RESERVED');
    assert.equal(history[0].operationSuccess, false);

    const admin = await request(second.url, 'GET', `/admin/payments/${DEMO.psp.pspId}/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(admin.status, 200, admin.text);
    assert.equal(admin.body.state, 'FAILED', admin.text);
    assert.equal(admin.body.failureReason, 'DELIVERY_ABANDONED', 'failed by the sweep of the restarted process, not by a timeout before the kill');
    assert.equal(stub.callsFor(id).length, 1, 'makePayment is not sent again after the restart');

    second.child.kill('SIGTERM');
    assert.equal((await second.exit()).code, 0, second.output());
  });

  it('`migrate` on the same data exits 0, and the server starts after it with its data intact', { timeout: 3 * START_TIMEOUT_MS + 30_000 }, async () => {
    const data = await freshData();
    const migrateEnv = { LOG_LEVEL: 'info', ...data };

    // On fresh data, before any server ran.
    const before = ServerProcess.spawn(['migrate'], migrateEnv);
    assert.equal((await before.exit()).code, 0, before.output());
    assert.match(before.stdout, /Migrations applied to /);

    const first = await ServerProcess.start(data);
    const headers = pspHeaders(await accessToken(first.url));
    const id = uniqueId('migrate');
    await initiate(first.url, headers, id, 'http://127.0.0.1:9/x');
    first.child.kill('SIGTERM');
    assert.equal((await first.exit()).code, 0, first.output());

    // Again on the data the server left: nothing to do, still exit 0.
    const again = ServerProcess.spawn(['migrate'], migrateEnv);
    assert.equal((await again.exit()).code, 0, again.output());
    assert.match(again.stdout, /Migrations applied to /);
    assert.equal(again.stderr.trim(), '', again.output());

    const second = await ServerProcess.start(data);
    const headers2 = pspHeaders(await accessToken(second.url));
    const details = await request(second.url, 'GET', `/psp/v3/psppayments/${id}/details`, { headers: headers2 });
    assert.equal(details.status, 200, `the payment made before migrate is still there: ${details.text}`);
    second.child.kill('SIGTERM');
    assert.equal((await second.exit()).code, 0, second.output());
  });
});
