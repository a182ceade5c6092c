// POST /psp/v3/psppayments/updatestatus with Idempotency-Key / Request-Id: a retry (also a concurrent
// one) is answered with the first answer and stores nothing; another body with a used key is a 409;
// keys are per PSP and expire after IDEMPOTENCY_RETENTION_HOURS, when the cleanup deletes them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminHeaders, backend, call, createPsp, DEMO, pngLogo, pspHeaders, startTestServer, type Answer, type TestServer,
} from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { details, eventually, forceApprove, init, initBody, initOk, uniqueId } from '../support/payments.ts';
import { cleanExpiredKeys } from '../../src/jobs/idempotency-cleanup.ts';

const OK = { responseInfo: { responseCode: '9000', responseMessage: 'SUCCESS' } };
const PATH = '/psp/v3/psppayments/updatestatus';

type Update = { pspTransactionId: string; status: string; amount: number | string; paymentText?: string };

/** What a test needs of one server: requests, the batch, and direct looks at idempotency_keys. */
function harness(get: () => { server: TestServer; stub: PspStub; h: Record<string, string> }) {
  const post = (transactions: Update[], keyHeaders: Record<string, string> = {}, headers = get().h) =>
    call(get().server.url, 'POST', PATH, { headers: { ...headers, ...keyHeaders }, body: { transactions } });
  const postRaw = (raw: string, keyHeaders: Record<string, string>, headers = get().h) =>
    call(get().server.url, 'POST', PATH, { headers: { ...headers, ...keyHeaders, 'content-type': 'application/json' }, raw });
  const run = async () => {
    const answer = await call(get().server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };
  const runs = async () => {
    const answer = await call(get().server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    return answer.body as { pending: number; runs: Array<{ runId: number; applied: number; invocations: number }> };
  };
  const pending = async () => (await runs()).pending;
  const reserved = async (amount = 10000) => {
    const { server, stub, h } = get();
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount }));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    return id;
  };
  const log = async (id: string) => {
    const answer = await details(get().server.url, get().h, id);
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };
  const operations = async (id: string) => (await log(id)).transactionLogHistory.map((e: any) => [e.operation, e.amount]);
  /** Makes a stored key look `minutes` old. */
  const age = async (pspId: string, scope: string, key: string, minutes: number) => {
    const changed = await get().server.services.database.query<{ key: string }>('test_idempotency_age',
      'update idempotency_keys set created_at = now() - make_interval(mins => $4::int) where psp_id = $1 and scope = $2 and key = $3 returning key',
      [pspId, scope, key, minutes]);
    assert.equal(changed.length, 1, `the key ${scope}/${key} is stored`);
  };
  const storedKeys = async (pspId: string, keys: string[]) => {
    const found = await get().server.services.database.query<{ scope: string; key: string }>('test_idempotency_keys',
      'select scope, key from idempotency_keys where psp_id = $1 and key = any($2::text[]) order by scope, key', [pspId, keys]);
    return found.map((r) => `${r.scope}/${r.key}`);
  };
  return { post, postRaw, run, runs, pending, reserved, log, operations, age, storedKeys };
}

function assertConflict(answer: Answer): void {
  assert.equal(answer.status, 409, answer.text);
  assert.ok(Array.isArray(answer.body), answer.text);
  assert.equal(answer.body.length, 1);
  const [detail] = answer.body;
  assert.deepEqual(Object.keys(detail).sort(), ['contextId', 'errorCode', 'errorMessage']);
  assert.equal(detail.errorCode, 'idempotency_conflict');
  assert.match(detail.errorMessage, /Idempotency-Key/);
  assert.equal(typeof detail.contextId, 'string');
  assert.ok(detail.contextId.length > 0);
}

async function otherPspHeaders(server: TestServer): Promise<{ pspId: string; headers: Record<string, string> }> {
  const other = await createPsp(server.url, 'Idempotency rival');
  const created = await call(server.url, 'POST', '/merchant-management/psp/v1/merchants', {
    headers: { ...(await pspHeaders(server.url, other, undefined)), 'Idempotency-Key': uniqueId('signup-') },
    body: {
      organizationNumber: '444444444', name: 'Rival', mccCode: '5411', logo: pngLogo(),
      address: { addressLine1: 'Gate 4', city: 'Oslo', postCode: '0150', country: 'NO' }, companyName: 'Rival AS', companyEmail: 'c@rival.example',
    },
  });
  assert.equal(created.status, 200, created.text);
  return { pspId: other.pspId, headers: await pspHeaders(server.url, other, created.body.merchantSerialNumber) };
}

describe('updatestatus with an idempotency key', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  const t = harness(() => ({ server, stub, h }));

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('without a key, the same request sent twice is stored twice (unchanged)', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 1000 }];
    assert.equal((await t.post(updates)).status, 200);
    assert.equal((await t.post(updates)).status, 200);
    assert.equal(await t.pending(), 2);
    assert.equal((await t.run()).applied, 2);
    assert.equal((await t.log(id)).transactionSummary.capturedAmount, 2000);
  });

  it('answers a retry with the first answer and applies the capture once', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const key = uniqueId('key-');
    const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 4000, paymentText: 'Shipped' }];
    const first = await t.post(updates, { 'Idempotency-Key': key });
    const second = await t.post(updates, { 'Idempotency-Key': key });
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(first.body, OK);
    assert.deepEqual(second.body, first.body);
    assert.equal(await t.pending(), 1, 'the retry stored nothing');

    // The same body with its properties in another order is the same request.
    const reordered = `{"transactions":[{"paymentText":"Shipped","amount":4000,"status":"CAPTURED","pspTransactionId":"${id}"}]}`;
    const third = await t.postRaw(reordered, { 'Idempotency-Key': key });
    assert.equal(third.status, 200, third.text);
    assert.deepEqual(third.body, OK);
    assert.equal(await t.pending(), 1);

    const summary = await t.run();
    assert.equal(summary.applied, 1);
    assert.equal(summary.rejected, 0);
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 4000]]);
    assert.equal((await t.log(id)).transactionSummary.capturedAmount, 4000);

    // A retry after the batch is still only a replay.
    const late = await t.post(updates, { 'Idempotency-Key': key });
    assert.equal(late.status, 200);
    assert.deepEqual(late.body, OK);
    assert.equal(await t.pending(), 0);
    assert.equal((await t.run()).applied, 0);
    assert.equal((await t.log(id)).transactionSummary.capturedAmount, 4000);
  });

  it('stores concurrent retries once', async () => {
    await t.run();
    const rounds = 5;
    const ids: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const id = await t.reserved(10000);
      ids.push(id);
      const key = uniqueId('race-');
      const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 2500 }];
      const answers = await Promise.all([1, 2, 3, 4].map(() => t.post(updates, { 'Idempotency-Key': key })));
      for (const answer of answers) {
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(answer.body, OK);
      }
    }
    assert.equal(await t.pending(), rounds);
    assert.equal((await t.run()).applied, rounds);
    for (const id of ids) assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 2500]]);
  });

  it('answers 409 in the ErrorDetails shape to the same key with another body, and stores nothing from it', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const key = uniqueId('key-');
    assert.equal((await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 3000 }], { 'Idempotency-Key': key })).status, 200);
    assertConflict(await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 3001 }], { 'Idempotency-Key': key }));
    assertConflict(await t.post([{ pspTransactionId: id, status: 'REFUNDED', amount: 3000 }], { 'Idempotency-Key': key }));
    // The key covers the Merchant-Serial-Number header too, as for init.
    const otherMsn = await pspHeaders(server.url, undefined, DEMO.secondMsn);
    assertConflict(await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 3000 }], { 'Idempotency-Key': key }, otherMsn));
    assert.equal(await t.pending(), 1);
    assert.equal((await t.run()).applied, 1);
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 3000]]);
  });

  it('of two different bodies sent at once with one key, exactly one is stored', async () => {
    await t.run();
    for (let round = 0; round < 3; round += 1) {
      const id = await t.reserved(10000);
      const key = uniqueId('race-');
      const answers = await Promise.all([1000, 2000].map((amount) =>
        t.post([{ pspTransactionId: id, status: 'CAPTURED', amount }], { 'Idempotency-Key': key })));
      const won = answers.filter((a) => a.status === 200);
      const lost = answers.filter((a) => a.status !== 200);
      assert.equal(won.length, 1, answers.map((a) => a.text).join(' | '));
      assertConflict(lost[0]);
      assert.equal(await t.pending(), 1);
      assert.equal((await t.run()).applied, 1);
      const ops = await t.operations(id);
      assert.equal(ops.length, 2);
      assert.equal(ops[1][0], 'CAPTURED');
    }
  });

  it('leaves the key unused when the request is invalid', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const key = uniqueId('key-');
    const bad = await t.post([{ pspTransactionId: id, status: 'SHIPPED', amount: 3000 }], { 'Idempotency-Key': key });
    assert.equal(bad.status, 400, bad.text);
    const good = await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 3000 }], { 'Idempotency-Key': key });
    assert.equal(good.status, 200, good.text);
    assert.equal(await t.pending(), 1);
  });

  it('takes Request-Id as the key, and Idempotency-Key before it', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const requestId = uniqueId('req-');
    const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 1500 }];
    const first = await t.post(updates, { 'Request-Id': requestId });
    const second = await t.post(updates, { 'Request-Id': requestId });
    assert.equal(first.status, 200);
    assert.deepEqual(second.body, first.body);
    assertConflict(await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 1 }], { 'Request-Id': requestId }));
    assert.equal(await t.pending(), 1);

    const key = uniqueId('key-');
    const refund = [{ pspTransactionId: id, status: 'REFUNDED', amount: 500 }];
    assert.equal((await t.post(refund, { 'Idempotency-Key': key, 'Request-Id': uniqueId('req-') })).status, 200);
    assert.equal((await t.post(refund, { 'Idempotency-Key': key, 'Request-Id': uniqueId('req-') })).status, 200);
    assert.equal(await t.pending(), 2, 'the second request was a retry of the first: the Request-Id did not matter');

    assert.equal((await t.run()).applied, 2);
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 1500], ['REFUNDED', 500]]);
  });

  it('keeps the keys of different PSPs apart', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const rival = await otherPspHeaders(server);
    const key = uniqueId('shared-');
    assert.equal((await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 1200 }], { 'Idempotency-Key': key })).status, 200);
    const theirs = [{ pspTransactionId: uniqueId('theirs'), status: 'CAPTURED', amount: 700 }];
    const first = await t.post(theirs, { 'Idempotency-Key': key }, rival.headers);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, OK);
    assert.equal((await t.post(theirs, { 'Idempotency-Key': key }, rival.headers)).status, 200);
    assert.equal(await t.pending(), 2, 'one from each PSP');
    assert.deepEqual(await t.storedKeys(DEMO.psp.pspId, [key]), [`updatestatus/${key}`]);
    assert.deepEqual(await t.storedKeys(rival.pspId, [key]), [`updatestatus/${key}`]);
    const summary = await t.run();
    assert.equal(summary.applied, 1);
    assert.deepEqual(summary.rejectedByReason, { UNKNOWN_PAYMENT: 1 });
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 1200]]);
  });

  it('keeps a key 24 hours by default; an older one counts as new', async () => {
    await t.run();
    const id = await t.reserved(10000);
    const key = uniqueId('old-');
    const first = [{ pspTransactionId: id, status: 'CAPTURED', amount: 1000 }];
    assert.equal((await t.post(first, { 'Idempotency-Key': key })).status, 200);
    await t.age(DEMO.psp.pspId, 'updatestatus', key, 23 * 60);
    assert.equal((await t.post(first, { 'Idempotency-Key': key })).status, 200);
    assertConflict(await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 2000 }], { 'Idempotency-Key': key }));
    assert.equal(await t.pending(), 1, 'a 23-hour-old key still holds');

    await t.age(DEMO.psp.pspId, 'updatestatus', key, 24 * 60 + 5);
    const second = [{ pspTransactionId: id, status: 'CAPTURED', amount: 2000 }];
    const fresh = await t.post(second, { 'Idempotency-Key': key });
    assert.equal(fresh.status, 200, fresh.text);
    assert.deepEqual(fresh.body, OK);
    assert.equal(await t.pending(), 2, 'the expired key ran afresh');
    // The key now belongs to the new request.
    assert.equal((await t.post(second, { 'Idempotency-Key': key })).status, 200);
    assertConflict(await t.post(first, { 'Idempotency-Key': key }));
    assert.equal(await t.pending(), 2);
    assert.equal((await t.run()).applied, 2);
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 1000], ['CAPTURED', 2000]]);
  });
});

describe('IDEMPOTENCY_RETENTION_HOURS', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  const t = harness(() => ({ server, stub, h }));

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ IDEMPOTENCY_RETENTION_HOURS: '1' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('treats an updatestatus key older than the retention as absent', async () => {
    const id = await t.reserved(10000);
    const key = uniqueId('key-');
    const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 1000 }];
    assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
    await t.age(DEMO.psp.pspId, 'updatestatus', key, 50);
    assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
    assert.equal(await t.pending(), 1, 'within the hour: a replay');
    await t.age(DEMO.psp.pspId, 'updatestatus', key, 61);
    assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
    assert.equal(await t.pending(), 2, 'after the hour: stored again');
    assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
    assert.equal(await t.pending(), 2, 'and the renewed key holds again');
    assert.equal((await t.run()).applied, 2);
    assert.equal((await t.log(id)).transactionSummary.capturedAmount, 2000);
  });

  it('lets exactly one of several concurrent requests take over an expired key', async () => {
    await t.run();
    const id = await t.reserved(10000);
    for (let round = 1; round <= 3; round += 1) {
      const key = uniqueId('expired-');
      const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 100 }];
      assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
      await t.age(DEMO.psp.pspId, 'updatestatus', key, 90);
      const answers = await Promise.all([1, 2, 3, 4].map(() => t.post(updates, { 'Idempotency-Key': key })));
      for (const answer of answers) assert.deepEqual(answer.body, OK);
      assert.equal(await t.pending(), 2 * round, 'the first request and one of the retries after expiry');
    }
    assert.equal((await t.run()).applied, 6);
  });

  it('applies the same retention to init keys', async () => {
    const key = uniqueId('init-');
    const first = await init(server.url, { ...h, 'Idempotency-Key': key }, initBody(stub.url));
    assert.equal(first.status, 200, first.text);
    assertConflict(await init(server.url, { ...h, 'Idempotency-Key': key }, initBody(stub.url)));
    await t.age(DEMO.psp.pspId, 'init', key, 61);
    const again = await init(server.url, { ...h, 'Idempotency-Key': key }, initBody(stub.url));
    assert.equal(again.status, 200, again.text);
    assert.notEqual(again.body.pspTransactionId, first.body.pspTransactionId);
  });
});

describe('STATUS_BATCH_MODE=immediate with an idempotency key', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  const t = harness(() => ({ server, stub, h }));

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ STATUS_BATCH_MODE: 'immediate' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('runs the batch for the first request only', async () => {
    const id = await t.reserved(10000);
    const key = uniqueId('key-');
    const updates = [{ pspTransactionId: id, status: 'CAPTURED', amount: 3000 }];
    assert.equal((await t.post(updates, { 'Idempotency-Key': key })).status, 200);
    assert.equal((await t.log(id)).transactionSummary.capturedAmount, 3000);
    // Immediate mode adds the runs of a minute up in one row: count the runs, not the rows.
    const runsSoFar = async () => (await t.runs()).runs.reduce((n, r) => n + r.invocations, 0);
    const runsAfterFirst = await runsSoFar();
    assert.ok(runsAfterFirst >= 1);
    const answers = await Promise.all([1, 2, 3].map(() => t.post(updates, { 'Idempotency-Key': key })));
    for (const answer of answers) assert.deepEqual(answer.body, OK);
    assert.equal(await runsSoFar(), runsAfterFirst, 'a replay starts no run');
    assert.deepEqual(await t.operations(id), [['RESERVED', 10000], ['CAPTURED', 3000]]);
  });
});

describe('the idempotency key cleanup', () => {
  it('deletes keys older than the retention, in batches, and keeps the others', async () => {
    const stub = await PspStub.start();
    const env = { IDEMPOTENCY_RETENTION_HOURS: '1' };
    const dataDir = backend() === 'pglite' ? await mkdtemp(join(tmpdir(), 'vipps-psp-idempotency-')) : undefined;
    let first: TestServer | undefined = await startTestServer(env, { dataDir });
    let second: TestServer | undefined;
    try {
      let server = first;
      let h = await pspHeaders(server.url);
      const t = harness(() => ({ server, stub, h }));
      const id = await t.reserved(10000);
      const old = [uniqueId('old-'), uniqueId('old-')];
      const young = uniqueId('young-');
      const initKey = uniqueId('init-');
      for (const key of [...old, young]) {
        assert.equal((await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 100 }], { 'Idempotency-Key': key })).status, 200);
      }
      assert.equal((await init(server.url, { ...h, 'Idempotency-Key': initKey }, initBody(stub.url))).status, 200);
      for (const key of old) await t.age(DEMO.psp.pspId, 'updatestatus', key, 2 * 60);
      await t.age(DEMO.psp.pspId, 'init', initKey, 2 * 60);
      await t.age(DEMO.psp.pspId, 'updatestatus', young, 30);
      const all = [...old, young, initKey];
      assert.equal((await t.storedKeys(DEMO.psp.pspId, all)).length, 4);

      // A process started on this database runs the cleanup shortly after it starts.
      if (dataDir) {
        await first.close();
        first = undefined;
        second = await startTestServer(env, { dataDir });
      } else {
        second = await startTestServer(env, { databaseUrl: first.databaseUrl });
      }
      server = second;
      h = await pspHeaders(server.url);
      const left = await eventually(() => t.storedKeys(DEMO.psp.pspId, all), (keys) => keys.length === 1, 10_000);
      assert.deepEqual(left, [`updatestatus/${young}`]);

      // A deleted key is free: another body with it is a new request.
      const again = await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 200 }], { 'Idempotency-Key': old[0] });
      assert.equal(again.status, 200, again.text);

      // One run deletes at most the batches it is given, each of the given size.
      const many = Array.from({ length: 5 }, () => uniqueId('many-'));
      for (const key of many) {
        assert.equal((await t.post([{ pspTransactionId: id, status: 'CAPTURED', amount: 1 }], { 'Idempotency-Key': key })).status, 200);
        await t.age(DEMO.psp.pspId, 'updatestatus', key, 90);
      }
      assert.deepEqual(await cleanExpiredKeys(server.services.payments, 2, 2), { deleted: 4, more: true });
      assert.equal((await t.storedKeys(DEMO.psp.pspId, many)).length, 1);
      assert.deepEqual(await cleanExpiredKeys(server.services.payments, 2, 2), { deleted: 1, more: false });
      assert.deepEqual(await t.storedKeys(DEMO.psp.pspId, [...many, young, old[0]]), [`updatestatus/${old[0]}`, `updatestatus/${young}`]);
    } finally {
      await second?.close();
      await first?.close();
      await stub.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
});


describe('the IDEMPOTENCY_RETENTION_HOURS setting', () => {
  it('defaults to 24 and accepts 1 to 8760 hours', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.ts');
    assert.equal(loadConfig({}).idempotencyRetentionHours, 24);
    assert.equal(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '1' }).idempotencyRetentionHours, 1);
    assert.equal(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '8760' }).idempotencyRetentionHours, 8760);
    for (const bad of ['0', '8761', '1.5', 'day']) {
      assert.throws(() => loadConfig({ IDEMPOTENCY_RETENTION_HOURS: bad }), (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.startsWith('IDEMPOTENCY_RETENTION_HOURS')));
    }
  });
});
