// Property tests of the PSP API's edges: whatever a client sends (bodies, headers, paths, raw bytes),
// the server answers with a clean 4xx in the API's ErrorDetails shape, and never with a 5xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADMIN_TOKEN, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';

const INIT = '/psp/v3/psppayments/init';
const MAKE_PAYMENT_URL = 'http://127.0.0.1:9/x';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A value replaced by a fresh unique id just before sending, so generated "valid" ids never collide. */
const UNIQUE = '\u0001unique\u0001';

let seq = 0;
const runId = Date.now().toString(36);
function uniqueId(): string {
  seq += 1;
  return `fz-${runId}-${seq.toString(36)}`;
}

function withUniqueIds(value: unknown): unknown {
  if (value === UNIQUE) return uniqueId();
  if (Array.isArray(value)) return value.map(withUniqueIds);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withUniqueIds(v)]));
  }
  return value;
}

interface Reply {
  status: number;
  text: string;
  body: unknown;
  headers: Headers;
}

async function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<Reply> {
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, body: parsed, headers: response.headers };
}

/** The PSP API's ErrorDetails: a non-empty array of {errorCode, errorMessage, contextId} with a UUID contextId. */
function assertErrorDetails(reply: Reply, what: string): void {
  assert.ok(Array.isArray(reply.body), `${what}: ${reply.status} body is an ErrorDetails array: ${reply.text.slice(0, 300)}`);
  const list = reply.body as Array<Record<string, unknown>>;
  assert.ok(list.length > 0, `${what}: ErrorDetails is not empty`);
  const contextIds = new Set<unknown>();
  for (const entry of list) {
    assert.equal(typeof entry, 'object', what);
    assert.deepEqual(Object.keys(entry).sort(), ['contextId', 'errorCode', 'errorMessage'], `${what}: ${reply.text.slice(0, 300)}`);
    assert.equal(typeof entry.errorCode, 'string', what);
    assert.equal(typeof entry.errorMessage, 'string', what);
    assert.match(String(entry.contextId), UUID, what);
    contextIds.add(entry.contextId);
  }
  assert.equal(contextIds.size, 1, `${what}: one contextId per answer`);
}

function assertNo5xx(reply: Reply, what: string): void {
  assert.ok(reply.status < 500, `${what} gave ${reply.status}: ${reply.text.slice(0, 500)}`);
}

// ---- generators -------------------------------------------------------------------------------

const awkwardStrings = fc.constantFrom(
  '', ' ', '\t', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\uffff', '💳', 'ÆØÅ æøå', 'null', 'true', 'false', 'undefined', 'NaN',
  '<script>alert(1)</script>', "'; drop table payments; --", '%00', '../../etc/passwd', '{"a":1}', '[]', 'x'.repeat(300), 'y'.repeat(5000),
  'https://', 'http://localhost', 'http://127.0.0.1:9/x', 'javascript:alert(1)', 'https://psp.example/return',
);
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), awkwardStrings);
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 99, 100, 101, 1.5, 2_147_483_647, 2_147_483_648, -2_147_483_649, 1e21, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
);
const numericString = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom(' 100 ', '100 ', '0100', '1e3', '0x10', '100.0', '-100', '+100', '999999999999', '9999999999999', '2147483647', '2147483648', '1_000', '١٠٠'),
);
const nested = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.object({ maxDepth: 1 }), fc.array(anyString, { maxLength: 3 }));
const anyValue = fc.oneof(anyString, anyNumber, fc.boolean(), fc.constant(null), nested);

/** A field that is sometimes valid, sometimes anything at all. */
function field<T>(valid: fc.Arbitrary<T>, ...more: Array<fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: anyValue, weight: 1 }, ...more.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const initBody = fc.record({
  pspTransactionId: field(fc.constant(UNIQUE), fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/)),
  merchantOrderId: field(fc.constant(UNIQUE), fc.stringMatching(/^[a-zA-Z0-9-]{1,55}$/)),
  customerMobileNumber: field(fc.constantFrom('92929292', '12345678', ''), fc.stringMatching(/^\d{6,10}$/), fc.integer({ min: 10_000_000, max: 99_999_999 })),
  amount: field(fc.integer({ min: 100, max: 2_147_483_647 }), numericString, fc.integer({ min: 100, max: 2_147_483_647 }).map(String)),
  currency: field(fc.constantFrom('NOK', null), fc.constantFrom('nok', 'SEK', 'EUR', 'NOK ')),
  pspRedirectUrl: field(fc.constantFrom('https://psp.example.com/return', 'http://shop.example.com/back?x=1'), fc.webUrl()),
  makePaymentUrl: field(fc.constant(MAKE_PAYMENT_URL), fc.webUrl(), fc.constantFrom('http://localhost:9/x', 'ftp://127.0.0.1/x')),
  makePaymentToken: field(fc.string({ maxLength: 60 }), fc.string({ minLength: 250, maxLength: 300 })),
  paymentText: field(fc.string({ maxLength: 100 }), fc.string({ minLength: 95, maxLength: 120 })),
  isApp: field(fc.boolean(), fc.constantFrom('true', 'false', 'TRUE', 1, 0)),
  skipLandingPage: field(fc.constant(false), fc.boolean(), fc.constantFrom('true', 'false')),
  merchantAgreementUrl: field(fc.constantFrom('https://psp.example/agreement'), fc.webUrl()),
}, { requiredKeys: [] });

const bodyWithExtras = fc.tuple(initBody, fc.dictionary(fc.string({ maxLength: 12 }), anyValue, { maxKeys: 3 }))
  .map(([body, extra]) => ({ ...extra, ...body }));

/** A header value fetch can send: visible ASCII and Latin-1, tabs and spaces, no CR/LF/NUL. */
const headerSafe = fc.string({
  unit: fc.oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), weight: 10 },
    { arbitrary: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)), weight: 1 },
    { arbitrary: fc.constant('\t'), weight: 1 },
  ),
  maxLength: 80,
});

// ---- tests ------------------------------------------------------------------------------------

describe('PSP API fuzzing', () => {
  let server: TestServer;
  let auth: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    auth = await pspHeaders(server.url);
  });
  after(async () => { await server.close(); });

  async function postInit(body: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
    const payload = withUniqueIds(body);
    const reply = await send(server.url, 'POST', INIT, { ...auth, 'content-type': 'application/json', ...extraHeaders }, JSON.stringify(payload));
    const what = `init ${JSON.stringify(payload).slice(0, 400)}`;
    assertNo5xx(reply, what);
    if (reply.status === 200) {
      const b = reply.body as Record<string, unknown>;
      assert.equal(typeof b.pspTransactionId, 'string', what);
      assert.equal(typeof b.merchantOrderId, 'string', what);
      assert.equal(typeof b.vippsRedirectUrl, 'string', what);
      assert.equal(b.pspTransactionId, (payload as Record<string, unknown>).pspTransactionId, what);
      assert.equal(b.merchantOrderId, (payload as Record<string, unknown>).merchantOrderId, what);
      assert.match(b.vippsRedirectUrl as string, /^(https?:\/\/[^/]+\/landing|vippsMT:\/\/)\?token=[A-Za-z0-9_-]+$/, what);
    } else {
      assert.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.status}`);
      assertErrorDetails(reply, what);
    }
    return reply;
  }

  describe('POST /psp/v3/psppayments/init with arbitrary bodies', () => {
    it('any JSON value: never 5xx, errors as ErrorDetails', async () => {
      await fc.assert(fc.asyncProperty(fc.jsonValue(), async (body) => { await postInit(body); }), { numRuns: 300 });
    });

    it('any object: never 5xx, errors as ErrorDetails', async () => {
      await fc.assert(fc.asyncProperty(fc.object(), async (body) => { await postInit(body); }), { numRuns: 300 });
    });

    it('records of the init fields with valid and arbitrary values: never 5xx; 200 answers are complete', async () => {
      const statuses = new Map<number, number>();
      await fc.assert(fc.asyncProperty(bodyWithExtras, fc.option(fc.uuid(), { nil: undefined }), async (body, idempotencyKey) => {
        const reply = await postInit(body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      }), { numRuns: 1000 });
      // The generator is meant to reach both sides of validation.
      assert.ok((statuses.get(200) ?? 0) > 0, `some bodies are accepted: ${JSON.stringify([...statuses])}`);
      assert.ok((statuses.get(400) ?? 0) > 0, `some bodies are rejected: ${JSON.stringify([...statuses])}`);
    });

    it('a valid body with numeric-string amounts: 200 exactly when the amount is a whole number of øre in range', async () => {
      await fc.assert(fc.asyncProperty(numericString, async (amount) => {
        const reply = await postInit({
          pspTransactionId: UNIQUE, merchantOrderId: UNIQUE, amount, currency: 'NOK',
          pspRedirectUrl: 'https://psp.example.com/return', makePaymentUrl: MAKE_PAYMENT_URL,
        });
        const n = /^\s*-?\d{1,12}\s*$/.test(amount) ? Number(amount.trim()) : undefined;
        const acceptable = n !== undefined && n >= 100 && n <= 2_147_483_647;
        assert.equal(reply.status, acceptable ? 200 : 400, `amount ${JSON.stringify(amount)}: ${reply.text}`);
      }), { numRuns: 100 });
    });
  });

  describe('POST /psp/v3/psppayments/init with text the database cannot store or deep nesting', () => {
    const validBody = () => ({
      pspTransactionId: uniqueId(), merchantOrderId: uniqueId(), amount: 1000, currency: 'NOK',
      pspRedirectUrl: 'https://psp.example.com/return', makePaymentUrl: MAKE_PAYMENT_URL,
    });
    const unstorable = fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00\ud800'), fc.string({ maxLength: 10 }))
      .map(([a, bad, b]) => `${a}${bad}${b}`);

    it('a NUL or an unpaired surrogate in any text field, extra key or value is a 400 "51", never a 5xx', async () => {
      const where = fc.constantFrom('paymentText', 'makePaymentToken', 'merchantAgreementUrl', 'appRedirect', 'extraValue', 'extraKey', 'nested');
      await fc.assert(fc.asyncProperty(where, unstorable, fc.option(fc.uuid(), { nil: undefined }), async (field, text, idempotencyKey) => {
        const body: Record<string, unknown> = validBody();
        if (field === 'appRedirect') Object.assign(body, { isApp: true, pspRedirectUrl: text });
        else if (field === 'extraValue') body.note = text;
        else if (field === 'extraKey') body[text] = 'x';
        else if (field === 'nested') body.meta = { list: [1, { deep: text }] };
        else body[field] = text;
        const reply = await postInit(body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
        assert.equal(reply.status, 400, `${field} ${JSON.stringify(text)}: ${reply.text}`);
        assert.equal((reply.body as Array<{ errorCode: string }>)[0].errorCode, '51', reply.text);
      }), { numRuns: 200 });
    });

    it('deeply nested extra values: accepted up to a sane depth, 400 beyond, never a 5xx (also with Idempotency-Key)', async () => {
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 50_000 }), fc.constantFrom('array', 'object'), fc.boolean(), async (levels, kind, idempotent) => {
        const body = validBody();
        const nested = kind === 'array' ? `${'['.repeat(levels)}${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
        const raw = `${JSON.stringify(body).slice(0, -1)},"extra":${nested}}`;
        const reply = await send(server.url, 'POST', INIT, { ...auth, 'content-type': 'application/json', ...(idempotent ? { 'idempotency-key': uniqueId() } : {}) }, raw);
        const what = `${levels} levels of ${kind}`;
        assertNo5xx(reply, what);
        if (levels + 1 <= 32) assert.equal(reply.status, 200, `${what}: ${reply.text}`);
        else {
          assert.equal(reply.status, 400, `${what}: ${reply.text}`);
          assertErrorDetails(reply, what);
        }
      }), { numRuns: 60, examples: [[31, 'array', true], [32, 'object', true], [5000, 'array', true], [50_000, 'object', true]] });
    });
  });

  describe('arbitrary header sets', () => {
    type Variant = { value: string | undefined; valid: boolean };
    const v = (value: string | undefined, valid: boolean): Variant => ({ value, valid });

    function variants(token: string): Record<string, fc.Arbitrary<Variant>> {
      const midSig = token.lastIndexOf('.') + 20;
      const tampered = `${token.slice(0, midSig)}${token[midSig] === 'A' ? 'B' : 'A'}${token.slice(midSig + 1)}`;
      const random = headerSafe.map((s) => v(s, false));
      return {
        authorization: fc.oneof(
          { arbitrary: fc.constantFrom(v(`Bearer ${token}`, true), v(`bearer ${token}`, true), v(`BEARER  ${token}`, true)), weight: 4 },
          {
            arbitrary: fc.constantFrom(
              v(undefined, false), v('', false), v('Bearer', false), v('Bearer ', false), v(token, false), v(`Basic ${token}`, false),
              v(`Bearer ${token.slice(0, -3)}`, false), v(`Bearer ${tampered}`, false), v(`Bearer ${token} extra`, false),
              v(`Bearer ${token.split('.').slice(0, 2).join('.')}.`, false), v('Bearer a.b.c', false),
            ),
            weight: 2,
          },
          { arbitrary: random, weight: 1 },
          { arbitrary: headerSafe.map((s) => v(`Bearer ${s.replace(/\s/g, '')}x`, false)), weight: 1 },
        ),
        'ocp-apim-subscription-key': fc.oneof(
          { arbitrary: fc.constant(v(DEMO.psp.subscriptionKey, true)), weight: 4 },
          { arbitrary: fc.constantFrom(v(undefined, false), v('', false), v(DEMO.psp.subscriptionKey.toUpperCase(), false), v(DEMO.psp.subscriptionKey.slice(1), false)), weight: 2 },
          { arbitrary: random, weight: 1 },
        ),
        'psp-id': fc.oneof(
          {
            arbitrary: fc.constantFrom(
              v(DEMO.psp.pspId, true), v(DEMO.psp.pspId.toLowerCase(), true),
              v(DEMO.psp.pspId.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'), true),
            ),
            weight: 4,
          },
          { arbitrary: fc.constantFrom(v(undefined, false), v('', false), v('00000000000000000000000000000000', false), v(DEMO.psp.pspId.slice(1), false)), weight: 2 },
          { arbitrary: fc.uuid().map((u) => v(u, false)), weight: 1 },
          { arbitrary: random, weight: 1 },
        ),
        'merchant-serial-number': fc.oneof(
          { arbitrary: fc.constant(v(DEMO.msn, true)), weight: 4 },
          { arbitrary: fc.constantFrom(v(undefined, false), v('', false), v('0123456', false), v('12345', false), v('999999', false), v('123456 7', false)), weight: 2 },
          { arbitrary: fc.stringMatching(/^\d{1,8}$/).filter((s) => s !== DEMO.msn).map((s) => v(s, false)), weight: 1 },
          { arbitrary: random, weight: 1 },
        ),
        'vipps-system-name': fc.oneof(
          { arbitrary: fc.constant(v(undefined, true)), weight: 3 },
          { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((s) => v(s, true)), weight: 2 },
          { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 31, maxLength: 200 }).map((s) => v(s, false)), weight: 1 },
        ),
      };
    }

    it('never 5xx; 200 only when every header is valid, otherwise 4xx ErrorDetails', async () => {
      const seen = { ok: 0, rejected: 0 };
      await fc.assert(fc.asyncProperty(fc.record(variants(auth.authorization.slice('Bearer '.length))), async (set) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        for (const [name, variant] of Object.entries(set)) if (variant.value !== undefined) headers[name] = variant.value;
        // HTTP trims a header value's surrounding whitespace, so the length limit counts what is left.
        const systemName = set['vipps-system-name'].value;
        const allValid = Object.entries(set).every(([name, variant]) => name === 'vipps-system-name' || variant.valid)
          && (systemName === undefined || systemName.replace(/^[ \t]+|[ \t]+$/g, '').length <= 30);
        const body = {
          pspTransactionId: uniqueId(), merchantOrderId: uniqueId(), amount: 1000, currency: 'NOK',
          pspRedirectUrl: 'https://psp.example.com/return', makePaymentUrl: MAKE_PAYMENT_URL,
        };
        const reply = await send(server.url, 'POST', INIT, headers, JSON.stringify(body));
        const what = `headers ${JSON.stringify(headers)}`;
        assertNo5xx(reply, what);
        if (allValid) {
          assert.equal(reply.status, 200, `${what}: ${reply.text}`);
          seen.ok += 1;
        } else {
          assert.ok(reply.status >= 400 && reply.status < 500, `${what}: expected 4xx, got ${reply.status} ${reply.text}`);
          assertErrorDetails(reply, what);
          seen.rejected += 1;
        }
      }), { numRuns: 500 });
      assert.ok(seen.ok > 0 && seen.rejected > 0, JSON.stringify(seen));
    });
  });

  describe('arbitrary paths', () => {
    const percentEncoded = fc.oneof(
      fc.constantFrom('%00', '%2F', '%2f', '%25', '%', '%zz', '%E2%82', '%ff', '%C0%AF', '%2e%2e', '..', '.', '%0A', '%0d%0a', '%20', '+', ';', '%3B', '%u0000', '%ED%A0%80'),
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
    );
    const segment = fc.oneof(
      { arbitrary: fc.webSegment(), weight: 3 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent), weight: 2 },
      { arbitrary: percentEncoded, weight: 2 },
      { arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => 'a'.repeat(n)), weight: 1 },
      { arbitrary: fc.constantFrom('psp', 'v3', 'psppayments', 'init', 'details', 'approve', 'integration-test', 'admin', 'payments', 'accessToken', 'get', DEMO.psp.pspId, 'merchants', 'v1'), weight: 2 },
    );
    const templated = fc.oneof(
      segment.map((s) => `/psp/v3/psppayments/${s}/details`),
      segment.map((s) => `/psp/v3/integration-test/psppayments/${s}/approve`),
      fc.tuple(segment, segment).map(([a, b]) => `/admin/payments/${a}/${b}`),
      fc.tuple(segment, segment).map(([a, b]) => `/admin/payments/${a}/${b}/reject`),
      fc.tuple(segment, segment).map(([a, b]) => `/mobileintercept?transactionId=${a}&responsecode=${b}`),
      segment.map((s) => `/psp/v1/merchants/${s}`),
      segment.map((s) => `/PSP/V3/PSPPAYMENTS/${s}/DETAILS/`),
    );
    const path = fc.oneof(
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
      fc.tuple(fc.webPath(), fc.webQueryParameters()).map(([p, q]) => `/${p.replace(/^\//, '')}?${q}`),
      templated,
    );

    for (const method of ['GET', 'POST'] as const) {
      it(`${method} of arbitrary paths never gives 5xx`, async () => {
        await fc.assert(fc.asyncProperty(path, fc.boolean(), async (p, asAdmin) => {
          const headers: Record<string, string> = { ...auth, ...(asAdmin ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) };
          let body: string | undefined;
          if (method === 'POST') {
            headers['content-type'] = 'application/json';
            body = JSON.stringify({ customerPhoneNumber: DEMO.userPhone, token: 'x' });
          }
          const reply = await send(server.url, method, p, headers, body);
          const what = `${method} ${p.slice(0, 300)}`;
          assertNo5xx(reply, what);
          // What reaches the application under /psp/ is answered in the PSP API's error shape.
          if (reply.status >= 400 && reply.headers.get('x-content-type-options') === 'nosniff' && new URL(`${server.url}${p}`).pathname.toLowerCase().startsWith('/psp/')) {
            assertErrorDetails(reply, what);
          }
        }), { numRuns: 500 });
      });
    }
  });

  describe('raw bodies that are not JSON', () => {
    const decoder = new TextDecoder();
    function notJson(text: string): boolean {
      if (text.trim() === '') return false;
      try { JSON.parse(text.trim()); return false; } catch { return true; }
    }
    const raw = fc.oneof(
      fc.constantFrom('{', '}', '{"a":', '{"amount": 100,}', "{'amount': 100}", 'undefined', 'NaN', 'Infinity', '{"a":1}{"b":2}', '[1,2', '"unterminated',
        '\u0000', '{"a":"\u0000', 'pspTransactionId=abc&amount=100', '<xml/>', '\ufeff{}x', '{"a":1} trailing', '01', '- 1', 'tru', 'nul'),
      fc.string().map((s) => `{${s}`),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.json().map((j) => `${j}${j}`),
      fc.json().map((j) => j.slice(0, Math.max(1, j.length - 1))),
    ).filter(notJson);
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 200 }).filter((b) => notJson(decoder.decode(b)));

    it('are 400 ErrorDetails with errorCode invalid_json', async () => {
      const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON');
      await fc.assert(fc.asyncProperty(fc.oneof(raw, bytes), contentType, async (body, type) => {
        const reply = await send(server.url, 'POST', INIT, { ...auth, 'content-type': type }, body);
        const what = `raw body ${JSON.stringify(typeof body === 'string' ? body : [...body]).slice(0, 300)} as ${type}`;
        assert.equal(reply.status, 400, `${what}: ${reply.text}`);
        assertErrorDetails(reply, what);
        assert.equal((reply.body as Array<{ errorCode: string }>)[0].errorCode, 'invalid_json', what);
      }), { numRuns: 300 });
    });
  });
});
