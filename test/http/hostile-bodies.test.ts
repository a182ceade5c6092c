// Bodies built to cost the server time or memory: a flat list of numbers, deep nesting, long strings,
// many keys, many small objects, long lists of lists. At each route's size limit they are refused
// with a 400, one byte over it with a 413, both in the API's own error shape, and the server stays up;
// a real updatestatus request of the documented maximum of 50,000 updates is still accepted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, ADMIN_TOKEN, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { MAX_STATUS_BODY_BYTES, MAX_TRANSACTIONS } from '../../src/domain/psp-v3/status-payload.ts';
import { HOSTILE_SHAPES } from '../support/hostile-bodies.ts';

const MiB = 1024 * 1024;
/** The bytes `{"transactions":` and `}` add around a shape. */
const WRAPPER = '{"transactions":}'.length;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SHAPES = HOSTILE_SHAPES;

interface Reply {
  status: number;
  type: string;
  text: string;
  body: unknown;
}

async function send(url: string, headers: Record<string, string>, raw: string): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: raw });
  const text = await response.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body };
}

type Family = 'psp' | 'problem' | 'token';

/** The error shape of each route family (plugins/errors.ts). */
function assertErrorShape(family: Family, reply: Reply, what: string): void {
  const b = reply.body as any;
  if (family === 'psp') {
    assert.ok(Array.isArray(b) && b.length > 0, `${what}: an ErrorDetails array: ${reply.text.slice(0, 300)}`);
    for (const entry of b) {
      assert.deepEqual(Object.keys(entry).sort(), ['contextId', 'errorCode', 'errorMessage'], what);
      assert.match(entry.contextId, UUID, what);
    }
  } else if (family === 'token') {
    assert.equal(b?.statusCode, reply.status, `${what}: ${reply.text.slice(0, 300)}`);
    assert.equal(typeof b.message, 'string', what);
  } else {
    assert.equal(b?.status, reply.status, `${what}: ${reply.text.slice(0, 300)}`);
    for (const field of ['type', 'title', 'detail', 'instance']) assert.equal(typeof b[field], 'string', `${what}: ${field}`);
  }
}

describe('hostile request bodies', () => {
  let server: TestServer;
  let psp: Record<string, string>;
  let updatestatus: string;

  before(async () => {
    server = await startTestServer();
    psp = await pspHeaders(server.url);
    updatestatus = `${server.url}/psp/v3/psppayments/updatestatus`;
  });
  after(async () => { await server.close(); });

  async function assertHealthy(what: string): Promise<void> {
    const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200, `${what}: /health answers afterwards`);
    await health.text();
  }

  describe(`updatestatus, limit ${MAX_STATUS_BODY_BYTES / MiB} MiB`, () => {
    for (const [name, shape] of Object.entries(SHAPES)) {
      it(`${name}: 400 at the limit, 413 one byte over, in ErrorDetails`, async () => {
        const at = `{"transactions":${shape(MAX_STATUS_BODY_BYTES - WRAPPER)}}`;
        assert.equal(Buffer.byteLength(at), MAX_STATUS_BODY_BYTES);
        const refused = await send(updatestatus, psp, at);
        assert.equal(refused.status, 400, `${name} at the limit: ${refused.text.slice(0, 300)}`);
        assertErrorShape('psp', refused, name);
        const over = await send(updatestatus, psp, `${at} `);
        assert.equal(over.status, 413, `${name} over the limit: ${over.text.slice(0, 300)}`);
        assertErrorShape('psp', over, name);
        await assertHealthy(name);
      });
    }

    it('four hostile bodies at once: each refused, and /health answers meanwhile', async () => {
      const shapes = ['a flat list of numbers', 'deep nesting', 'many keys', 'lists of lists of numbers'];
      let healthChecks = 0;
      let sending = true;
      const health = (async () => {
        while (sending) {
          const r = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(30_000) });
          assert.equal(r.status, 200);
          await r.text();
          healthChecks += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const replies = await Promise.all(shapes.map((name) => send(updatestatus, psp, `{"transactions":${SHAPES[name](MAX_STATUS_BODY_BYTES - WRAPPER)}}`)));
      sending = false;
      await health;
      replies.forEach((reply, i) => {
        assert.equal(reply.status, 400, `${shapes[i]}: ${reply.text.slice(0, 300)}`);
        assertErrorShape('psp', reply, shapes[i]);
      });
      assert.ok(healthChecks > 0, '/health was answered while they were handled');
      await assertHealthy('four at once');
    });

    it(`${MAX_TRANSACTIONS.toLocaleString('en')} updates at the documented field limits, pretty-printed, are accepted; one more is refused`, async () => {
      const tx = (i: number) => ({
        pspTransactionId: `hostile-${String(i).padStart(28, '0')}`, status: 'CANCELLED', amount: '-2147483648', currency: 'NOK',
        paymentText: '€'.repeat(100), operationStatus: 'SUCCESS',
      });
      const transactions = Array.from({ length: MAX_TRANSACTIONS }, (_, i) => tx(i));
      const raw = JSON.stringify({ transactions }, null, 2);
      assert.ok(Buffer.byteLength(raw) > 24 * MiB, `a body of ${Buffer.byteLength(raw)} bytes is near the worst case the limit is made for`);
      const accepted = await send(updatestatus, psp, raw);
      assert.equal(accepted.status, 200, accepted.text.slice(0, 300));
      assert.deepEqual(accepted.body, { responseInfo: { responseCode: '9000', responseMessage: 'SUCCESS' } });
      const runs = await fetch(`${server.url}/admin/status-batch/runs`, { headers: adminHeaders() });
      assert.equal(((await runs.json()) as { pending: number }).pending, MAX_TRANSACTIONS, 'every update was stored');

      transactions.push(tx(MAX_TRANSACTIONS));
      const refused = await send(updatestatus, psp, JSON.stringify({ transactions }));
      assert.equal(refused.status, 400, refused.text.slice(0, 300));
      assertErrorShape('psp', refused, 'one update too many');
      assert.match((refused.body as Array<{ errorMessage: string }>)[0].errorMessage, /50000/);
    });
  });

  describe('routes with the default 1 MiB limit', () => {
    const routes: Array<{ name: string; family: Family; path: string; headers: () => Record<string, string> }> = [
      { name: 'init', family: 'psp', path: '/psp/v3/psppayments/init', headers: () => psp },
      { name: 'signup', family: 'problem', path: '/merchant-management/psp/v1/merchants', headers: () => ({ ...psp, 'idempotency-key': 'hostile' }) },
      { name: 'operator API', family: 'problem', path: '/admin/psps', headers: () => ({ authorization: `Bearer ${ADMIN_TOKEN}` }) },
    ];
    for (const route of routes) {
      it(`${route.name}: every shape is a 400 at 1 MiB and a 413 one byte over, in its error shape`, async () => {
        for (const [name, shape] of Object.entries(SHAPES)) {
          const at = shape(MiB);
          const refused = await send(`${server.url}${route.path}`, route.headers(), at);
          assert.ok(refused.status === 400, `${route.name}, ${name} at 1 MiB: ${refused.status} ${refused.text.slice(0, 300)}`);
          assertErrorShape(route.family, refused, `${route.name}, ${name}`);
          const over = await send(`${server.url}${route.path}`, route.headers(), `${at} `);
          assert.equal(over.status, 413, `${route.name}, ${name} over 1 MiB: ${over.text.slice(0, 300)}`);
          assertErrorShape(route.family, over, `${route.name}, ${name}`);
        }
        await assertHealthy(route.name);
      });
    }

    it('access token (which ignores its body): a shape over the limits is a 400, over 1 MiB a 413, in its error shape', async () => {
      const url = `${server.url}/accessToken/get`;
      for (const name of ['deep nesting', 'a flat list of numbers', 'many keys']) {
        const refused = await send(url, {}, SHAPES[name](MiB));
        assert.equal(refused.status, 400, `${name}: ${refused.text.slice(0, 300)}`);
        assertErrorShape('token', refused, name);
      }
      const over = await send(url, {}, SHAPES['a long string'](MiB + 1));
      assert.equal(over.status, 413, over.text.slice(0, 300));
      assertErrorShape('token', over, 'over 1 MiB');
    });
  });
});
