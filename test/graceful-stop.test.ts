// A graceful stop waits for the work it accepted: updatestatus requests in STATUS_BATCH_MODE=immediate
// whose clients have gone away are still storing and applying their updates when SIGTERM comes; the
// process finishes them (a batch run stops after its current chunk, recorded as interrupted) before it
// closes the database, exits 0 and logs no error. After a restart on the same data, the same requests
// sent again with their Idempotency-Keys store nothing twice, and one batch run leaves every update
// applied exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { adminHeaders, call, pspHeaders } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { details, forceApprove, initBody, initOk } from './support/payments.ts';

const PAYMENTS = 40;
const REQUESTS = 8;
const PER_REQUEST = 10_000;

/** Sends a request and goes away: the connection is destroyed `afterMs` after the body went out. */
function sendAndDisconnect(url: string, path: string, headers: Record<string, string>, body: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } });
    req.on('error', () => { /* the connection is ours to cut */ });
    req.on('response', (res) => res.resume());
    req.end(body, () => setTimeout(() => { req.destroy(); resolve(); }, afterMs));
  });
}

describe('SIGTERM with immediate-mode batch runs in flight', () => {
  let storage: Storage;
  let stub: PspStub;
  let child: Child | undefined;

  before(async () => {
    storage = await persistentStorage();
    stub = await PspStub.start();
  });
  after(async () => {
    if (child && child.process.exitCode === null) {
      child.kill('SIGKILL');
      await child.exited;
    }
    await stub?.close();
    await storage?.drop();
  });

  it('finishes the accepted work, exits 0 without an error line, and every update is applied once', async () => {
    const env = { ...storage.env, STATUS_BATCH_MODE: 'immediate', STATUS_BATCH_CHUNK_SIZE: '5000', LOG_LEVEL: 'info', LOG_FORMAT: 'json', PUBLIC_URL: 'http://vipps-psp.test' };
    child = await startChild(env);
    let h = await pspHeaders(child.url);
    const ids: string[] = [];
    for (let i = 0; i < PAYMENTS; i++) {
      const made = await initOk(child.url, h, initBody(stub.url, { amount: '5000' }));
      assert.equal((await forceApprove(child.url, h, made.id, made.token)).status, 200);
      ids.push(made.id);
    }
    // Each request captures 1 øre of every payment, PER_REQUEST / PAYMENTS times over.
    const bodies = Array.from({ length: REQUESTS }, () => JSON.stringify({
      transactions: Array.from({ length: PER_REQUEST }, (_, i) => ({ pspTransactionId: ids[i % PAYMENTS], status: 'CAPTURED', amount: 1 })),
    }));
    const keys = bodies.map((_, i) => `graceful-stop-${i}-${Date.now()}`);
    await Promise.all(bodies.map((body, i) => sendAndDisconnect(child!.url, '/psp/v3/psppayments/updatestatus', { ...h, 'idempotency-key': keys[i] }, body, 150)));

    child.kill('SIGTERM');
    const code = await child.exited;
    const output = child.output();
    assert.equal(code, 0, output.slice(-3000));
    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
    const errors = lines.filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], 'no error lines');
    assert.doesNotMatch(output, /Cannot use a pool|the updates stay pending|immediate status batch run failed/);
    assert.ok(lines.some((l) => /status batch run (finished|stopped by shutdown)/.test(l.msg)), 'a batch run was under way when the stop came');

    // Restart on the same data (nightly mode): the same requests again store only what was not stored.
    child = await startChild({ ...env, STATUS_BATCH_MODE: 'nightly' });
    h = await pspHeaders(child.url);
    for (const [i, body] of bodies.entries()) {
      const again: { status: number; text: string } = await call(child.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: { ...h, 'idempotency-key': keys[i], 'content-type': 'application/json' }, raw: body });
      assert.equal(again.status, 200, again.text);
    }
    const run = await call(child.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
    assert.equal(run.status, 200, run.text);
    // The restarted server's scheduler takes up the interrupted run a second after start, so it may
    // still be finishing beside the manual run: the runs are read once none is running.
    let batch = await call(child.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
    for (let i = 0; i < 100 && (batch.body.runs as Array<{ status: string }>).some((r) => r.status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      batch = await call(child.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
    }
    assert.equal(batch.body.pending, 0);
    const runs = batch.body.runs as Array<{ status: string; applied: number; rejected: number }>;
    for (const r of runs) assert.ok(r.status === 'finished' || r.status === 'interrupted', JSON.stringify(r));
    assert.equal(runs.reduce((n, r) => n + r.applied, 0), REQUESTS * PER_REQUEST, 'every update applied, none twice');
    assert.equal(runs.reduce((n, r) => n + r.rejected, 0), 0);
    for (const id of ids) {
      const log = (await details(child.url, h, id)).body.transactionLogHistory as Array<{ operation: string; amount: number }>;
      const captured = log.filter((e) => e.operation === 'CAPTURED').reduce((n, e) => n + e.amount, 0);
      assert.equal(captured, (REQUESTS * PER_REQUEST) / PAYMENTS, id);
    }
    child.kill('SIGTERM');
    assert.equal(await child.exited, 0);
  });
});
