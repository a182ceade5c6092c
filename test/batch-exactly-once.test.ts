// The status batch applies every update exactly once: across a SIGKILL in the middle of a run,
// and with two runners at the same time on one database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, pspHeaders, startTestServer } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { details, forceApprove, initBody, initOk } from './support/payments.ts';
import { persistentStorage, startChild, type Storage } from './support/child.ts';

const PAYMENTS = 8;

async function reservedPayments(base: string, stub: PspStub, h: Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < PAYMENTS; i++) {
    const { id, token } = await initOk(base, h, initBody(stub.url, { amount: 1_000_000 }));
    assert.equal((await forceApprove(base, h, id, token)).status, 200);
    ids.push(id);
  }
  return ids;
}

/** Sends `requests` × 10,000 captures of 1 øre, spread round-robin over the payments. */
async function sendCaptures(base: string, h: Record<string, string>, ids: string[], requests: number): Promise<void> {
  for (let r = 0; r < requests; r++) {
    const transactions = Array.from({ length: 10_000 }, (_, i) => ({ pspTransactionId: ids[i % ids.length], status: 'CAPTURED', amount: 1 }));
    const answer = await call(base, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions } });
    assert.equal(answer.status, 200, answer.text.slice(0, 300));
  }
}

async function assertExactlyOnce(base: string, h: Record<string, string>, ids: string[], total: number): Promise<void> {
  for (const id of ids) {
    const d = (await details(base, h, id)).body;
    const expected = total / ids.length;
    assert.equal(d.transactionSummary.capturedAmount, expected, `captured on ${id}`);
    assert.equal(d.transactionLogHistory.length, expected + 1, `log entries on ${id}`);
  }
}

/** The runs list once its newest run is no longer running (a killed run's lease has to run out). */
async function interruptedRun(base: string): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const runs = (await call(base, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body;
    if (runs.runs[0].status !== 'running' || Date.now() > deadline) return runs;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts a manual run and waits until its first chunk committed; returns the run's answer to come. */
async function runStartedMidway(base: string, total: number): Promise<{ answer: Promise<Response>; pending: number }> {
  const answer = fetch(`${base}/admin/status-batch/run`, { method: 'POST', headers: adminHeaders() });
  answer.catch(() => {});
  let pending = total;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    pending = (await call(base, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body.pending;
    if (pending < total) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { answer, pending };
}

describe('batch exactly once across a SIGKILL', () => {
  let storage: Storage;
  let stub: PspStub;
  before(async () => {
    storage = await persistentStorage();
    storage.env.STATUS_BATCH_CHUNK_SIZE = '1000';
    stub = await PspStub.start();
  });
  after(async () => {
    await stub.close();
    await storage.drop();
  });

  it('a run killed in the middle resumes on the next run with nothing lost or doubled', async () => {
    const total = 20_000;
    let server = await startChild(storage.env);
    let h: Record<string, string>;
    let ids: string[];
    try {
      h = await pspHeaders(server.url);
      ids = await reservedPayments(server.url, stub, h);
      await sendCaptures(server.url, h, ids, total / 10_000);
      const pendingBefore = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body.pending;
      assert.equal(pendingBefore, total);

      // Kill once the first chunk committed but before the run is over.
      const { pending } = await runStartedMidway(server.url, total);
      server.kill('SIGKILL');
      await server.exited;
      assert.ok(pending > 0 && pending < total, `killed mid-run (pending ${pending} of ${total})`);
    } catch (err) {
      server.kill('SIGKILL');
      throw err;
    }

    // The same port, so the same PUBLIC_URL: the access token from before the crash still works.
    server = await startChild(storage.env, server.port);
    try {
      const runs = await interruptedRun(server.url);
      assert.ok(runs.pending > 0, 'the killed run left work behind');
      const killed = runs.runs[0];
      assert.equal(killed.finishedAt, null, 'the killed run never finished');
      assert.equal(killed.status, 'interrupted');
      assert.ok(killed.applied > 0, 'its committed chunks count');
      assert.equal(killed.applied + killed.rejected, total - runs.pending, 'the killed run shows what its committed chunks did');
      const second = await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
      assert.equal(second.status, 200);
      assert.equal(second.body.applied, runs.pending, 'the second run applies exactly what was left');
      assert.equal(second.body.status, 'finished');
      assert.equal(second.body.resumesRunId, killed.runId, 'the next run resumes the interrupted one');
      const after = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body;
      assert.equal(after.pending, 0);
      await assertExactlyOnce(server.url, h!, ids!, total);
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
  });
});

/**
 * A server on fresh persistent storage, `total` captures stored, a manual run started and the server
 * stopped with SIGTERM once the run's first chunk committed; `restart()` starts it again.
 */
async function runStoppedBySigterm(total: number) {
  const storage = await persistentStorage();
  storage.env.STATUS_BATCH_CHUNK_SIZE = '1000';
  const stub = await PspStub.start();
  let server = await startChild(storage.env);
  const cleanup = async () => {
    server.kill('SIGTERM');
    await server.exited;
    await stub.close();
    await storage.drop();
  };
  try {
    const h = await pspHeaders(server.url);
    const ids = await reservedPayments(server.url, stub, h);
    await sendCaptures(server.url, h, ids, total / 10_000);
    const { answer } = await runStartedMidway(server.url, total);
    server.kill('SIGTERM');
    const run = await (await answer).json() as { runId: number; status: string; applied: number; interruptedAt: string | null };
    const exitCode = await server.exited;
    return {
      h, ids, run, exitCode, cleanup,
      async restart() {
        server = await startChild(storage.env, server.port);
        return server;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

describe('SIGTERM during a batch run', () => {
  it('finishes the current chunk and stops; the run shows as interrupted and the next run resumes it', async () => {
    const total = 20_000;
    const stopped = await runStoppedBySigterm(total);
    const { h, ids, run } = stopped;
    try {
      assert.equal(stopped.exitCode, 0, 'a clean exit');
      assert.equal(run.status, 'interrupted');
      assert.ok(run.interruptedAt);
      assert.ok(run.applied > 0 && run.applied < total, `stopped midway (applied ${run.applied})`);

      const server = await stopped.restart();
      const runs = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body;
      assert.equal(runs.runs[0].status, 'interrupted');
      assert.equal(runs.runs[0].applied, run.applied);
      assert.equal(runs.pending, total - run.applied, 'every chunk it applied was committed whole');
      const next = await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
      assert.equal(next.body.resumesRunId, runs.runs[0].runId);
      assert.equal(next.body.applied, total - run.applied);
      await assertExactlyOnce(server.url, h, ids, total);
    } finally {
      await stopped.cleanup();
    }
  });
});

describe('an interrupted run is taken up without an operator', () => {
  it('a restarted server resumes it by itself, soon after start', async () => {
    const total = 10_000;
    const stopped = await runStoppedBySigterm(total);
    const { h, ids, run } = stopped;
    try {
      assert.equal(run.status, 'interrupted');
      // The nightly schedule is hours away: the scheduler's first look after start takes the run up.
      const server = await stopped.restart();
      const deadline = Date.now() + 45_000;
      let runs = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body;
      while (runs.pending > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        runs = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body;
      }
      assert.equal(runs.pending, 0, 'the leftover updates were applied');
      const resumer = runs.runs.find((r: { resumesRunId: number | null }) => r.resumesRunId === run.runId);
      assert.ok(resumer, 'a run names the interrupted one');
      assert.equal(resumer.trigger, 'schedule');
      await assertExactlyOnce(server.url, h, ids, total);
    } finally {
      await stopped.cleanup();
    }
  });
});

describe('two batch runners at once on one database', () => {
  it('never applies an update twice', async () => {
    const stub = await PspStub.start();
    const first = await startTestServer();
    // With PostgreSQL the second runner is another server on the same database; with the embedded
    // database (one process only) it is a second run started at the same moment on the same server.
    const second = process.env.DATABASE_URL ? await startTestServer({}, { databaseUrl: first.databaseUrl }) : first;
    try {
      const h = await pspHeaders(first.url);
      const ids = await reservedPayments(first.url, stub, h);
      const total = 30_000;
      await sendCaptures(first.url, h, ids, total / 10_000);
      const [a, b] = await Promise.all([
        call(first.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() }),
        call(second.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() }),
      ]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(a.body.applied + b.body.applied, total, `applied ${a.body.applied} + ${b.body.applied}`);
      assert.equal(a.body.rejected + b.body.rejected, 0);
      await assertExactlyOnce(first.url, h, ids, total);
    } finally {
      if (second !== first) await second.close();
      await first.close();
      await stub.close();
    }
  });
});
