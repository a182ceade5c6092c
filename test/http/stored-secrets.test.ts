// Tokens at rest: the database holds no usable landing token (also not in the answer stored for an
// Idempotency-Key, which is still replayed byte for byte) and no usable 3-D Secure reference.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { backend, call, freshPostgresDatabase, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, forceApprove, initBody, initOk, tokenOf, uniqueId } from '../support/payments.ts';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The tables of the server's database whose rows contain `needle` anywhere, as text. */
async function tablesHolding(server: TestServer, needle: string): Promise<{ scanned: string[]; holding: string[] }> {
  const db = server.services.database;
  const tables = await db.query<{ name: string }>('test_tables',
    "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1", []);
  const holding: string[] = [];
  for (const { name } of tables) {
    const [row] = await db.query<{ n: number }>(`test_scan_${name}`, `select count(*)::int as n from "${name}" t where strpos(t::text, $1) > 0`, [needle]);
    if (row.n > 0) holding.push(name);
  }
  return { scanned: tables.map((t) => t.name), holding };
}

describe('tokens at rest', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  // A database that survives a restart: a PostgreSQL database of its own, or a PGlite folder.
  let dataDir: string | undefined;
  let postgres: { url: string; drop(): Promise<void> } | undefined;

  async function start(): Promise<TestServer> {
    return backend() === 'postgres' ? startTestServer({}, { databaseUrl: postgres!.url }) : startTestServer({}, { dataDir });
  }

  before(async () => {
    stub = await PspStub.start();
    if (backend() === 'postgres') postgres = await freshPostgresDatabase(process.env.DATABASE_URL!);
    else dataDir = await mkdtemp(join(tmpdir(), 'vipps-psp-secrets-'));
    server = await start();
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server?.close();
    await stub?.close();
    await postgres?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const keyedInit = (key: string, body: Record<string, unknown>) =>
    call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Idempotency-Key': key }, body });

  it('an init with an Idempotency-Key: no table holds its landing token, the replay is byte-identical, and its token opens the landing page', async () => {
    const key = uniqueId('key-');
    const body = initBody(stub.url);
    const first = await keyedInit(key, body);
    assert.equal(first.status, 200, first.text);
    const token = tokenOf(first.body.vippsRedirectUrl);
    assert.ok(token.length >= 32);

    const { scanned, holding } = await tablesHolding(server, token);
    assert.ok(scanned.includes('idempotency_keys') && scanned.includes('payments'), scanned.join(', '));
    assert.deepEqual(holding, [], 'the landing token is stored nowhere');
    const stored = await server.services.database.query<{ body: string }>('test_stored_init',
      "select response_body::text as body from idempotency_keys where key = $1 and scope = 'init'", [key]);
    assert.equal(stored.length, 1, 'the answer is stored for the key');
    assert.doesNotMatch(stored[0].body, /token=[A-Za-z0-9_-]/);
    const [payment] = await server.services.database.query<{ n: number }>('test_token_hash',
      'select count(*)::int as n from payments where token_hash = $1', [sha256(token)]);
    assert.equal(payment.n, 1, 'the payment keeps the token\'s hash');

    const replay = await keyedInit(key, body);
    assert.equal(replay.status, 200);
    assert.equal(replay.text, first.text, 'the replay is the first answer, byte for byte');

    const landing = await fetch(first.body.vippsRedirectUrl);
    assert.equal(landing.status, 200);
    assert.match(await landing.text(), /Acme Shop/);
  });

  it('a keyed isApp init replays the same deeplink', async () => {
    const key = uniqueId('key-');
    const body = initBody(stub.url, { isApp: true });
    const first = await keyedInit(key, body);
    assert.equal(first.status, 200, first.text);
    assert.match(first.body.vippsRedirectUrl, /^vippsMT:\/\/\?token=[A-Za-z0-9_-]{32}$/);
    assert.deepEqual((await tablesHolding(server, tokenOf(first.body.vippsRedirectUrl))).holding, []);
    assert.equal((await keyedInit(key, body)).text, first.text);
  });

  it('the replay is the same after a restart on the same database', async () => {
    const key = uniqueId('key-');
    const body = initBody(stub.url);
    const first = await keyedInit(key, body);
    assert.equal(first.status, 200, first.text);
    await server.close();
    server = await start();
    h = await pspHeaders(server.url);
    const replay = await keyedInit(key, body);
    assert.equal(replay.status, 200, replay.text);
    // Byte-identical, also the PUBLIC_URL in it, although the new process listens on another port.
    assert.equal(replay.text, first.text);
    const landing = await fetch(`${server.url}/landing?token=${tokenOf(replay.body.vippsRedirectUrl)}`);
    assert.equal(landing.status, 200);
    assert.match(await landing.text(), /Acme Shop/);
  });

  it('the 3-D Secure reference is stored nowhere, not in the recorded makePayment either, and its URL still works', async () => {
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl, then: { kind: 'ok' } });
    const { token } = await initOk(server.url, h, body);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const [sent] = stub.callsFor(id);
    const success = sent.body.operations.find((o: { operation: string }) => o.operation === '3dssuccess').url as string;
    const ref = new URL(success).searchParams.get('transactionId')!;
    assert.ok(ref.length >= 24, success);

    assert.deepEqual((await tablesHolding(server, ref)).holding, [], 'the reference is stored nowhere');
    const recorded = (await adminPayment(server.url, id)).deliveries[0].request.operations as Array<{ url: string }>;
    assert.equal(recorded.length, 3);
    for (const o of recorded) assert.match(o.url, /\/mobileintercept\?transactionId=\[redacted\]&responsecode=(OK|CANCEL|FAIL)$/);

    const page = await call('', 'GET', success);
    assert.equal(page.status, 200);
    assert.match(page.text, /approved/);
    assert.equal((await adminPayment(server.url, id)).state, 'RESERVED');
    // The second makePayment carries the same operation URLs.
    assert.deepEqual(stub.callsFor(id)[1].body.operations, sent.body.operations);
  });
});
