// WORKERS: several server processes on one port, on PostgreSQL. The embedded database refuses it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { pspHeaders } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { details, forceApprove, initBody, initOk } from './support/payments.ts';

/** The worker processes of a primary (Linux `ps`). */
function workersOf(pid: number): number[] {
  const out = spawnSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' }).stdout;
  return out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

/** A GET on a connection of its own (none kept alive from before), so the primary hands it to a worker. */
function onItsOwnConnection(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject).end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('WORKERS', () => {
  it('is refused on the embedded database, with the reason', () => {
    const r = spawnSync(process.execPath, ['src/cli/main.ts', 'start'], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: { ...process.env, WORKERS: '2', DATABASE_URL: '', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /WORKERS=2 needs DATABASE_URL: the embedded database serves one process/);
  });

  const pg = process.env.DATABASE_URL ? it : it.skip;
  let storage: Storage | undefined;
  let server: Child | undefined;
  after(async () => {
    if (server && server.process.exitCode === null) {
      server.kill('SIGKILL');
      await server.exited;
    }
    await storage?.drop();
  });

  pg('serves one port from several processes, replaces a worker that dies, and stops them all on SIGTERM', async () => {
    storage = await persistentStorage();
    const stub = await PspStub.start();
    try {
      server = await startChild({ ...storage.env, WORKERS: '2' });
      // The first worker may answer /ready before the second listens; the banner follows once both do.
      for (const deadline = Date.now() + 30_000; !/workers: 2/.test(server.output()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
      assert.match(server.output(), /workers: 2/);
      const primary = server.process.pid!;
      const workers = workersOf(primary);
      assert.equal(workers.length, 2, `two workers under the primary: ${workers.join(', ')}`);

      // Payments made through one process are seen through the other: they share the database.
      const h = await pspHeaders(server.url);
      for (let i = 0; i < 10; i++) {
        const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 1000 }));
        assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
        assert.equal((await details(server.url, h, id)).body.transactionSummary.remainingAmountToCapture, 1000);
      }

      execFileSync('kill', ['-9', String(workers[0])]);
      const deadline = Date.now() + 20_000;
      let now = workersOf(primary);
      while ((now.length < 2 || now.includes(workers[0])) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        now = workersOf(primary);
      }
      assert.equal(now.length, 2, 'a new worker replaced the killed one');
      assert.ok(!now.includes(workers[0]));
      // A connection kept alive to the killed worker died with it (a request sent on it before its
      // end is seen fails, as it would for any client): each check opens a connection of its own,
      // and the primary hands them to the two workers in turn, the new one included.
      for (let i = 0; i < 10; i++) assert.equal((await onItsOwnConnection(`${server.url}/ready`)).status, 200);

      server.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      for (const pid of now) assert.equal(alive(pid), false, `worker ${pid} stopped`);
    } finally {
      await stub.close();
    }
  });

  pg('answers /metrics with the whole server\'s figures, whichever worker the scrape reaches', async () => {
    const metricsStorage = await persistentStorage();
    const stub = await PspStub.start();
    const metricsServer = await startChild({ ...metricsStorage.env, WORKERS: '2', METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      for (const deadline = Date.now() + 30_000; !/workers: 2/.test(metricsServer.output()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
      // Each request on a connection of its own: the primary hands connections to the workers in turn.
      const once = (pathname: string, headers: Record<string, string> = {}) => onItsOwnConnection(`${metricsServer.url}${pathname}`, headers);
      const before = await once('/metrics', { authorization: 'Bearer metrics-token-0123456789' });
      assert.equal(before.status, 200, before.body);
      const healthBefore = countOf(before.body, 'vipps_psp_http_requests_total', 'route="/health"');
      const HEALTH = 21;
      for (let i = 0; i < HEALTH; i++) assert.equal((await once('/health')).status, 200);
      const h = await pspHeaders(metricsServer.url);
      for (let i = 0; i < 3; i++) await initOk(metricsServer.url, h, initBody(stub.url, { amount: 1000 }));
      for (let i = 0; i < 4; i++) {
        const scrape = await once('/metrics', { authorization: 'Bearer metrics-token-0123456789' });
        assert.equal(scrape.status, 200, scrape.body);
        // Requests counted by both workers, summed; a gauge read from the shared database, once.
        assert.equal(countOf(scrape.body, 'vipps_psp_http_requests_total', 'route="/health"') - healthBefore, HEALTH, `scrape ${i}`);
        assert.equal(countOf(scrape.body, 'vipps_psp_objects', 'api="psp-v3"', 'state="INITIATED"'), 3, `scrape ${i}`);
        assert.equal(countOf(scrape.body, 'vipps_psp_http_requests_total', 'route="/psp/v3/psppayments/init"', 'status="200"'), 3, `scrape ${i}`);
      }
    } finally {
      metricsServer.kill('SIGTERM');
      await metricsServer.exited;
      await stub.close();
      await metricsStorage.drop();
    }
  });
});

/** The sum of a metric's samples whose labels include every one of `labels` (Prometheus text). */
function countOf(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m && m[1] === name && labels.every((l) => m[2].split(',').includes(l))) sum += Number(m[3]);
  }
  return sum;
}
