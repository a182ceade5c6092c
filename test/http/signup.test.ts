// PSP Signup API (/merchant-management/psp/v1/merchants), black-box over HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  accessToken, call, createPsp, DEMO, merchantBody, pngLogo, pspHeaders, startTestServer, type Answer, type PspClient, type TestServer,
} from '../support/server.ts';

const BASE = '/merchant-management/psp/v1/merchants';

/** A valid create body. The support default website (".example", 7 letters) fails the spec's `[a-z]{2,6}` TLD rule. */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return merchantBody({ website: 'https://sockshop.no', ...overrides });
}

/** Asserts an RFC 7807 problem with the given status, in the media type the Signup spec declares for errors; returns its body. */
function assertProblem(answer: Answer, status: number): Record<string, any> {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get('content-type'), 'application/json;charset=UTF-8');
  const b = answer.body;
  assert.equal(typeof b, 'object', answer.text);
  assert.equal(b.status, status);
  for (const field of ['type', 'title', 'detail', 'instance']) {
    assert.equal(typeof b[field], 'string', `${field} is a string in ${answer.text}`);
    assert.ok(b[field].length > 0, `${field} is not empty`);
  }
  return b;
}

/** Asserts a 400 whose extraDetails name the given field. */
function assertFieldProblem(answer: Answer, field: string): Record<string, any> {
  const b = assertProblem(answer, 400);
  assert.ok(Array.isArray(b.extraDetails), `extraDetails in ${answer.text}`);
  const names = b.extraDetails.map((d: { name: string }) => d.name);
  assert.ok(names.includes(field), `extraDetails ${JSON.stringify(names)} should name ${field}`);
  for (const d of b.extraDetails) assert.equal(typeof d.reason, 'string');
  return b;
}

describe('PSP Signup API', () => {
  let server: TestServer;
  let demo: Record<string, string>;
  let other: PspClient;
  let otherHeaders: Record<string, string>;
  let keyCounter = 0;
  const freshKey = () => `key-${Date.now()}-${keyCounter++}`;

  before(async () => {
    server = await startTestServer();
    demo = await pspHeaders(server.url, undefined, undefined);
    other = await createPsp(server.url, 'Second PSP');
    otherHeaders = await pspHeaders(server.url, other, undefined);
  });
  after(async () => { await server.close(); });

  /** POST a merchant; `key` null sends no Idempotency-Key header. */
  const create = (payload: unknown, headers: Record<string, string> = demo, key: string | null = freshKey()) =>
    call(server.url, 'POST', BASE, { headers: { ...headers, ...(key === null ? {} : { 'idempotency-key': key }) }, body: payload });
  const list = async (headers: Record<string, string> = demo): Promise<Array<Record<string, any>>> => {
    const answer = await call(server.url, 'GET', BASE, { headers });
    assert.equal(answer.status, 200, answer.text);
    assert.ok(Array.isArray(answer.body.merchants));
    return answer.body.merchants;
  };

  describe('create, list, get', () => {
    it('creates a merchant and returns a six-digit merchantSerialNumber', async () => {
      const answer = await create(body());
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.headers.get('content-type'), 'application/json;charset=UTF-8');
      assert.deepEqual(Object.keys(answer.body), ['merchantSerialNumber']);
      assert.match(answer.body.merchantSerialNumber, /^[1-9]\d{5}$/);
    });

    it('gets the created merchant with the Merchant fields of the spec', async () => {
      const sent = body({ name: 'Get Me', email: 'hello@getme.no', address: { addressLine1: 'Gata 2', addressLine2: 'Bakgården', city: 'Bergen', postCode: '5003', country: 'NO' } });
      const { merchantSerialNumber: msn } = (await create(sent)).body;
      const answer = await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo });
      assert.equal(answer.status, 200, answer.text);
      const m = answer.body;
      assert.equal(m.merchantSerialNumber, msn);
      assert.equal(m.name, 'Get Me');
      assert.equal(m.organizationNumber, sent.organizationNumber);
      assert.equal(m.companyName, sent.companyName);
      assert.equal(m.companyEmail, sent.companyEmail);
      assert.equal(m.email, 'hello@getme.no');
      assert.equal(m.website, 'https://sockshop.no');
      assert.equal(m.status, 'ACTIVE');
      assert.deepEqual(m.address, { addressLine1: 'Gata 2', addressLine2: 'Bakgården', city: 'Bergen', postCode: '5003', country: 'NO' });
      assert.ok(!Number.isNaN(Date.parse(m.createdAt)), 'createdAt is a date-time');
      assert.ok(!Number.isNaN(Date.parse(m.updatedAt)), 'updatedAt is a date-time');
      assert.equal(m.logo, undefined, 'the logo is not part of the Merchant representation');
    });

    it("lists the caller's merchants, with the demo merchant in the demo PSP's list", async () => {
      const { merchantSerialNumber: msn } = (await create(body({ name: 'Listed' }))).body;
      const merchants = await list();
      const acme = merchants.find((m) => m.merchantSerialNumber === DEMO.msn);
      assert.ok(acme, 'demo merchant is listed');
      assert.equal(acme.name, 'Acme Shop');
      assert.equal(acme.status, 'ACTIVE');
      assert.equal(merchants.find((m) => m.merchantSerialNumber === msn)?.name, 'Listed');
      assert.equal(new Set(merchants.map((m) => m.merchantSerialNumber)).size, merchants.length, 'no duplicates');
    });

    it('answers 404 problem for an MSN that does not exist and 400 for a malformed one', async () => {
      // Generated MSNs have six digits, so this five-digit one (valid per the spec's pattern) never exists.
      assertProblem(await call(server.url, 'GET', `${BASE}/99999`, { headers: demo }), 404);
      assertProblem(await call(server.url, 'GET', `${BASE}/12ab56`, { headers: demo }), 400);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the same MSN for the same key and body, without a second merchant', async () => {
      const key = freshKey();
      const sent = body({ name: 'Idempotent Shop' });
      const first = await create(sent, demo, key);
      assert.equal(first.status, 200, first.text);
      const second = await create(sent, demo, key);
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.merchantSerialNumber, first.body.merchantSerialNumber);
      // The same body with its keys in another order is the same request.
      const reordered = Object.fromEntries(Object.entries(sent).reverse());
      const third = await create(reordered, demo, key);
      assert.equal(third.status, 200, third.text);
      assert.equal(third.body.merchantSerialNumber, first.body.merchantSerialNumber);
      const named = (await list()).filter((m) => m.name === 'Idempotent Shop');
      assert.equal(named.length, 1, 'exactly one merchant was created');
    });

    it('answers 409 for the same key with a different body', async () => {
      const key = freshKey();
      const first = await create(body({ name: 'Conflict A' }), demo, key);
      assert.equal(first.status, 200, first.text);
      const second = await create(body({ name: 'Conflict B' }), demo, key);
      assertProblem(second, 409);
      assert.equal((await list()).filter((m) => m.name === 'Conflict B').length, 0);
    });

    it('answers 400 without an Idempotency-Key (or with an empty one) and creates nothing', async () => {
      const missing = await create(body({ name: 'No Key' }), demo, null);
      const b = assertFieldProblem(missing, 'Idempotency-Key');
      assert.match(b.detail, /Idempotency-Key/);
      assertFieldProblem(await create(body({ name: 'No Key' }), demo, '   '), 'Idempotency-Key');
      assert.equal((await list()).filter((m) => m.name === 'No Key').length, 0);
    });

    it('scopes keys per PSP: another PSP reusing a key gets its own merchant', async () => {
      const key = freshKey();
      const sent = body({ name: 'Shared Key' });
      const mine = await create(sent, demo, key);
      const theirs = await create(sent, otherHeaders, key);
      assert.equal(mine.status, 200, mine.text);
      assert.equal(theirs.status, 200, theirs.text);
      assert.notEqual(theirs.body.merchantSerialNumber, mine.body.merchantSerialNumber);
    });
  });

  describe('validation (400 RFC 7807 naming the field)', () => {
    const rejected = (overrides: Record<string, unknown> = {}) => body({ name: 'Rejected Shop', ...overrides });
    const cases: Array<[string, () => Record<string, unknown>, string]> = [
      ['missing companyName', () => { const b = rejected(); delete b.companyName; return b; }, 'companyName'],
      ['missing address.city', () => rejected({ address: { addressLine1: 'Storgata 1', postCode: '0155', country: 'NO' } }), 'address.city'],
      ['mccCode not four digits', () => rejected({ mccCode: '54a1' }), 'mccCode'],
      ['mccCode too long', () => rejected({ mccCode: '54111' }), 'mccCode'],
      ['bad email', () => rejected({ email: 'not-an-email' }), 'email'],
      ['bad companyEmail', () => rejected({ companyEmail: 'post at example.no' }), 'companyEmail'],
      ['bad postCode', () => rejected({ address: { addressLine1: 'Storgata 1', city: 'Oslo', postCode: '01-55', country: 'NO' } }), 'address.postCode'],
      ['bad website', () => rejected({ website: 'not a website' }), 'website'],
      ['logo not base64', () => rejected({ logo: 'this is not base64!' }), 'logo'],
      ['logo base64 but not a PNG', () => rejected({ logo: Buffer.from('GIF89a, definitely not a PNG image').toString('base64') }), 'logo'],
      ['logo too small', () => rejected({ logo: pngLogo(50, 50) }), 'logo'],
      ['logo too large', () => rejected({ logo: pngLogo(1001, 200) }), 'logo'],
      ['name of the wrong type', () => rejected({ name: 123 }), 'name'],
      ['address of the wrong type', () => rejected({ address: 'Storgata 1, Oslo' }), 'address'],
      ['name with a NUL character', () => rejected({ name: 'Sock\u0000Shop' }), 'name'],
      ['address with a NUL character', () => rejected({ address: { addressLine1: 'Storgata\u00001', city: 'Oslo', postCode: '0155', country: 'NO' } }), 'address.addressLine1'],
      ['address with an unpaired surrogate', () => rejected({ address: { addressLine1: 'Storgata 1', city: 'Os\ud800lo', postCode: '0155', country: 'NO' } }), 'address.city'],
      ['Norwegian organizationNumber with spaces', () => rejected({ organizationNumber: '123 456 789' }), 'organizationNumber'],
      ['Norwegian organizationNumber of 5 digits', () => rejected({ organizationNumber: '12345' }), 'organizationNumber'],
      ['Norwegian organizationNumber of letters', () => rejected({ organizationNumber: 'ABCDEFGHI' }), 'organizationNumber'],
      ['Norwegian organizationNumber of 10 digits, country "no"', () => rejected({
        organizationNumber: '1234567890', address: { addressLine1: 'Storgata 1', city: 'Oslo', postCode: '0155', country: 'no' },
      }), 'organizationNumber'],
    ];
    for (const [label, make, field] of cases) {
      it(`${label} → 400 naming ${field}`, async () => {
        const b = assertFieldProblem(await create(make()), field);
        if (label.startsWith('logo too small')) assert.match(JSON.stringify(b.extraDetails), /50x50/);
      });
    }

    it('says why a Norwegian organizationNumber is refused, with every other problem of the body', async () => {
      const b = assertFieldProblem(await create(body({ name: 'Rejected Shop', organizationNumber: '123 456 789', logo: pngLogo(50, 50) })), 'organizationNumber');
      assert.deepEqual(b.extraDetails, [
        { name: 'organizationNumber', reason: 'For a Norwegian merchant (address.country NO) it must be 9 digits without spaces' },
        { name: 'logo', reason: 'The logo is 50x50 pixels; the minimum is 100x100' },
      ]);
    });

    it('takes the organizationNumber of a merchant outside Norway as sent (the spec names no other format)', async () => {
      const sent = body({
        name: 'Strumpbutiken', organizationNumber: '556036-0793', address: { addressLine1: 'Drottninggatan 1', city: 'Stockholm', postCode: '111 51', country: 'SE' },
      });
      const answer = await create(sent);
      assert.equal(answer.status, 200, answer.text);
      const m = (await call(server.url, 'GET', `${BASE}/${answer.body.merchantSerialNumber}`, { headers: demo })).body;
      assert.equal(m.organizationNumber, '556036-0793');
      // Moving it to Norway needs a Norwegian organization number, which a PATCH cannot give it.
      const moved = await call(server.url, 'PATCH', `${BASE}/${answer.body.merchantSerialNumber}`, {
        headers: demo, body: { address: { addressLine1: 'Storgata 1', city: 'Oslo', postCode: '0155', country: 'NO' } },
      });
      assertFieldProblem(moved, 'address.country');
      const still = (await call(server.url, 'GET', `${BASE}/${answer.body.merchantSerialNumber}`, { headers: demo })).body;
      assert.equal(still.address.country, 'SE');
    });

    it('ignores properties the spec does not name, and takes an empty logo as "no logo yet" (as the official Postman collection sends)', async () => {
      const answer = await create(body({ name: 'Extra Props', favouriteColour: 'blue', logo: '' }));
      assert.equal(answer.status, 200, answer.text);
      const m = (await call(server.url, 'GET', `${BASE}/${answer.body.merchantSerialNumber}`, { headers: demo })).body;
      assert.equal(m.name, 'Extra Props');
      assert.equal(m.favouriteColour, undefined);
    });

    it('creates nothing for any rejected body', async () => {
      const names = new Set((await list()).map((m) => m.name));
      assert.ok(!names.has('Sock\u0000Shop'));
      assert.ok(!names.has('Rejected Shop'), 'no rejected body was stored');
    });

    it('answers malformed JSON with 400 problem', async () => {
      const answer = await call(server.url, 'POST', BASE, {
        headers: { ...demo, 'idempotency-key': freshKey(), 'content-type': 'application/json' }, raw: '{"name": "Sock Shop",',
      });
      const b = assertProblem(answer, 400);
      assert.match(b.detail, /JSON/);
    });

    it('answers a JSON array or no body with 400 problem', async () => {
      assertProblem(await create([body()]), 400);
      assertProblem(await call(server.url, 'POST', BASE, { headers: { ...demo, 'idempotency-key': freshKey() } }), 400);
    });

    it('answers quickly for a website value that makes the spec pattern backtrack exponentially', async () => {
      const started = performance.now();
      const answer = await create(body({ website: `https://a.com${'-'.repeat(26)} ` }));
      const ms = performance.now() - started;
      assertFieldProblem(answer, 'website');
      assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
    });

    it('answers a body over 1 MiB with 413 problem', async () => {
      const answer = await create(body({ logo: 'A'.repeat(1024 * 1024 + 16) }));
      assertProblem(answer, 413);
    });
  });

  describe('PATCH', () => {
    it('changes the name, visible in GET, and bumps updatedAt', async () => {
      const { merchantSerialNumber: msn } = (await create(body({ name: 'Before Rename' }))).body;
      const before = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      await new Promise((r) => setTimeout(r, 5));
      const patched = await call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: { name: 'After Rename', mccCode: '5812' } });
      assert.equal(patched.status, 200, patched.text);
      const after = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      assert.equal(after.name, 'After Rename');
      assert.equal(after.status, 'ACTIVE');
      assert.equal(after.createdAt, before.createdAt);
      assert.ok(Date.parse(after.updatedAt) > Date.parse(before.updatedAt), 'updatedAt moved');
    });

    it('changes the address and logo', async () => {
      const { merchantSerialNumber: msn } = (await create(body())).body;
      const address = { addressLine1: 'Nygata 9', city: 'Trondheim', postCode: '7010', country: 'NO' };
      const patched = await call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: { address, logo: pngLogo(300, 300) } });
      assert.equal(patched.status, 200, patched.text);
      const after = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      assert.deepEqual(after.address, { ...address, addressLine2: null });
    });

    it('deactivates with deactivate:true; a deactivated merchant cannot be patched again', async () => {
      const { merchantSerialNumber: msn } = (await create(body({ name: 'To Deactivate' }))).body;
      const off = await call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: { deactivate: true } });
      assert.equal(off.status, 200, off.text);
      const got = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      assert.equal(got.status, 'DEACTIVATED');
      assertProblem(await call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: { name: 'Back Again' } }), 400);
      assertProblem(await call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: { deactivate: false } }), 400);
      const still = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      assert.equal(still.name, 'To Deactivate');
      assert.equal(still.status, 'DEACTIVATED');
    });

    it('rejects an empty patch, a patch of only unknown properties, bad values and unstorable text with 400; changes companyName', async () => {
      const { merchantSerialNumber: msn } = (await create(body({ name: 'Patch Target' }))).body;
      const patch = (b: unknown) => call(server.url, 'PATCH', `${BASE}/${msn}`, { headers: demo, body: b });
      assertProblem(await patch({}), 400);
      const onlyUnknown = assertProblem(await patch({ colour: 'red' }), 400);
      assert.match(onlyUnknown.extraDetails[0].reason, /At least one of the properties is required/);
      const renamed = await patch({ companyName: 'Patch Target AS', colour: 'red' });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal((await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body.companyName, 'Patch Target AS');
      assertFieldProblem(await patch({ mccCode: '12' }), 'mccCode');
      assertFieldProblem(await patch({ name: 42 }), 'name');
      assertFieldProblem(await patch({ logo: pngLogo(50, 50) }), 'logo');
      assertFieldProblem(await patch({ email: 'nope' }), 'email');
      assertFieldProblem(await patch({ address: { addressLine1: 'x', city: 'y', postCode: '#1', country: 'NO' } }), 'address.postCode');
      assertFieldProblem(await patch({ deactivate: 'yes' }), 'deactivate');
      assertFieldProblem(await patch({ name: 'Nul\u0000Name' }), 'name');
      const still = (await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo })).body;
      assert.equal(still.name, 'Patch Target');
      assert.equal(still.status, 'ACTIVE');
    });

    it('answers 404 for a merchant that does not exist', async () => {
      assertProblem(await call(server.url, 'PATCH', `${BASE}/99999`, { headers: demo, body: { name: 'Ghost' } }), 404);
    });
  });

  describe('tenant isolation', () => {
    it("another PSP gets 404 for the demo PSP's merchant on GET and PATCH, and does not list it", async () => {
      assertProblem(await call(server.url, 'GET', `${BASE}/${DEMO.msn}`, { headers: otherHeaders }), 404);
      assertProblem(await call(server.url, 'PATCH', `${BASE}/${DEMO.msn}`, { headers: otherHeaders, body: { name: 'Hijacked' } }), 404);
      assertProblem(await call(server.url, 'PATCH', `${BASE}/${DEMO.msn}`, { headers: otherHeaders, body: { deactivate: true } }), 404);
      const theirs = await list(otherHeaders);
      assert.ok(!theirs.some((m) => m.merchantSerialNumber === DEMO.msn));
      const acme = (await call(server.url, 'GET', `${BASE}/${DEMO.msn}`, { headers: demo })).body;
      assert.equal(acme.name, 'Acme Shop');
      assert.equal(acme.status, 'ACTIVE');
    });

    it("the demo PSP cannot see the other PSP's merchant", async () => {
      const created = await create(body({ name: 'Other Tenant Shop' }), otherHeaders);
      assert.equal(created.status, 200, created.text);
      const msn = created.body.merchantSerialNumber;
      assert.equal((await call(server.url, 'GET', `${BASE}/${msn}`, { headers: otherHeaders })).status, 200);
      assertProblem(await call(server.url, 'GET', `${BASE}/${msn}`, { headers: demo }), 404);
      assert.ok(!(await list()).some((m) => m.merchantSerialNumber === msn));
      const theirs = await list(otherHeaders);
      assert.ok(theirs.every((m) => m.name !== 'Acme Shop'));
      assert.ok(theirs.some((m) => m.merchantSerialNumber === msn));
    });
  });

  describe('authentication', () => {
    it('answers 401 without a token', async () => {
      const { authorization: _, ...noToken } = demo;
      assertProblem(await call(server.url, 'GET', BASE, { headers: noToken }), 401);
      assertProblem(await call(server.url, 'POST', BASE, { headers: { ...noToken, 'idempotency-key': freshKey() }, body: body() }), 401);
    });

    it('answers 401 for a bad token', async () => {
      for (const authorization of ['Bearer not-a-jwt', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJwc3BfaWQiOiJ4In0.c2ln', 'Basic Zm9vOmJhcg==', `${demo.authorization}x`]) {
        assertProblem(await call(server.url, 'GET', BASE, { headers: { ...demo, authorization } }), 401);
      }
    });

    it("answers 401 for PSP A's token with PSP B's subscription key", async () => {
      const tokenA = await accessToken(server.url);
      const answer = await call(server.url, 'GET', BASE, {
        headers: { authorization: `Bearer ${tokenA}`, 'ocp-apim-subscription-key': other.subscriptionKey },
      });
      assertProblem(answer, 401);
      const patch = await call(server.url, 'PATCH', `${BASE}/${DEMO.msn}`, {
        headers: { authorization: `Bearer ${tokenA}`, 'ocp-apim-subscription-key': other.subscriptionKey }, body: { name: 'Sneaky' },
      });
      assertProblem(patch, 401);
    });

    it('answers 401 without a subscription key or with an unknown one', async () => {
      const { 'ocp-apim-subscription-key': _, ...noKey } = demo;
      assertProblem(await call(server.url, 'GET', BASE, { headers: noKey }), 401);
      assertProblem(await call(server.url, 'GET', `${BASE}/${DEMO.msn}`, { headers: noKey }), 401);
      assertProblem(await call(server.url, 'GET', BASE, { headers: { ...noKey, 'ocp-apim-subscription-key': 'ffffffffffffffffffffffffffffffff' } }), 401);
    });

    it('checks credentials before validating the body', async () => {
      assertProblem(await call(server.url, 'POST', BASE, { headers: { 'idempotency-key': freshKey() }, body: { nonsense: true } }), 401);
    });
  });

  describe('routing', () => {
    it('accepts any casing of the path and a trailing slash', async () => {
      for (const path of [`${BASE}/`, BASE.toUpperCase(), '/Merchant-Management/PSP/v1/Merchants/']) {
        const answer = await call(server.url, 'GET', path, { headers: demo });
        assert.equal(answer.status, 200, `${path}: ${answer.text}`);
        assert.ok(answer.body.merchants.some((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn));
      }
      const one = await call(server.url, 'GET', `${BASE.toUpperCase()}/${DEMO.msn}/`, { headers: demo });
      assert.equal(one.status, 200, one.text);
      assert.equal(one.body.name, 'Acme Shop');
      const created = await call(server.url, 'POST', `${BASE}/`, { headers: { ...demo, 'idempotency-key': freshKey() }, body: body() });
      assert.equal(created.status, 200, created.text);
    });

    it('answers an unknown route with a 404 problem', async () => {
      const b = assertProblem(await call(server.url, 'GET', '/merchant-management/psp/v2/merchants', { headers: demo }), 404);
      assert.match(b.detail, /No route/);
      assertProblem(await call(server.url, 'GET', `${BASE}/${DEMO.msn}/logo`, { headers: demo }), 404);
    });

    it('answers a method a path does not have with 405 and an Allow header, as the spec lists for every path', async () => {
      const cases = [
        ['DELETE', BASE, 'GET, HEAD, POST'], ['DELETE', `${BASE}/${DEMO.msn}`, 'GET, HEAD, PATCH'],
        ['PUT', `${BASE}/${DEMO.msn}`, 'GET, HEAD, PATCH'], ['PATCH', BASE, 'GET, HEAD, POST'], ['POST', `${BASE.toUpperCase()}/${DEMO.msn}/`, 'GET, HEAD, PATCH'],
      ] as const;
      for (const [method, path, allow] of cases) {
        const answer = await call(server.url, method, path, { headers: demo, ...(method === 'DELETE' ? {} : { body: { name: 'x' } }) });
        const b = assertProblem(answer, 405);
        assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
        assert.equal(b.title, 'Request method not supported');
      }
      const acme = (await call(server.url, 'GET', `${BASE}/${DEMO.msn}`, { headers: demo })).body;
      assert.equal(acme.name, 'Acme Shop');
    });
  });
});
