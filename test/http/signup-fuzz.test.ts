// Property tests of the Signup API's create and patch routes: whatever JSON a PSP sends with valid
// credentials, the answer is 200 or a 400 RFC 7807 problem, never a 5xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { merchantBody, pngLogo, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';

const BASE = '/merchant-management/psp/v1/merchants';

let server: TestServer;
let headers: Record<string, string>;
let seq = 0;
const runId = Date.now().toString(36);

before(async () => {
  server = await startTestServer();
  headers = await pspHeaders(server.url, undefined, undefined);
});
after(async () => { await server?.close(); });

interface Reply {
  status: number;
  text: string;
  contentType: string;
}

async function send(method: string, path: string, body: string | undefined): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, 'idempotency-key': `fuzz-${runId}-${seq++}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

/** JSON text of a generated value; undefined (no body) when it has no JSON form. */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function assertClean(reply: Reply, what: string): void {
  assert.ok(reply.status < 500, `${what} → ${reply.status} ${reply.text.slice(0, 300)}`);
  assert.ok(reply.status === 200 || reply.status === 400, `${what} → ${reply.status} ${reply.text.slice(0, 300)}`);
  if (reply.status === 400) {
    assert.equal(reply.contentType, 'application/json;charset=UTF-8', what);
    const problem = JSON.parse(reply.text);
    assert.equal(problem.status, 400, what);
    assert.equal(typeof problem.detail, 'string', what);
  }
}

/** Strings with the characters storage layers choke on: NUL, unpaired surrogates, line separators, quotes. */
const nasty = fc.string({
  unit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', '\u2028', '"', '\\', ' ', 'a', '.', '@', '/'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 24,
});

const FIELDS = [
  'organizationNumber', 'name', 'mccCode', 'logo', 'email', 'website', 'companyName', 'companyEmail', 'address',
  'address.addressLine1', 'address.addressLine2', 'address.city', 'address.postCode', 'address.country',
];

/**
 * A valid merchant body with up to three fields replaced (by nasty strings, PNG headers of any size,
 * arbitrary JSON) or removed, so that many requests pass the schema and reach the database.
 */
function merchantish(): fc.Arbitrary<Record<string, unknown>> {
  const replacement = fc.oneof(
    { weight: 4, arbitrary: nasty },
    { weight: 1, arbitrary: fc.tuple(fc.nat(3000), fc.nat(3000)).map(([w, h]) => pngLogo(w, h)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.array(fc.tuple(fc.constantFrom(...FIELDS), replacement), { maxLength: 3 }).map((edits) => {
    const body = merchantBody({ website: 'https://sockshop.no' });
    body.address = { ...(body.address as Record<string, unknown>) };
    for (const [path, value] of edits) {
      const [head, tail] = path.split('.');
      const target = tail === undefined ? body : body[head];
      if (target === null || typeof target !== 'object' || Array.isArray(target)) continue;
      const key = tail ?? head;
      if (value === undefined) delete (target as Record<string, unknown>)[key];
      else (target as Record<string, unknown>)[key] = value;
    }
    return body;
  });
}

describe('Signup API fuzzing', () => {
  it('POST create never answers 5xx for arbitrary JSON bodies', async () => {
    const bodies = fc.oneof(
      { weight: 1, arbitrary: fc.anything() }, { weight: 1, arbitrary: fc.object() }, { weight: 1, arbitrary: fc.jsonValue() },
      { weight: 4, arbitrary: merchantish() },
    );
    let created = 0;
    await fc.assert(fc.asyncProperty(bodies, async (value) => {
      const json = toJson(value);
      const reply = await send('POST', BASE, json);
      assertClean(reply, `POST ${json?.slice(0, 200)}`);
      if (reply.status === 200) {
        created += 1;
        assert.match(JSON.parse(reply.text).merchantSerialNumber, /^[1-9]\d{5}$/);
      }
    }), { numRuns: 150 });
    assert.ok(created > 0, 'some generated bodies were valid and reached the database');
  });

  it('PATCH never answers 5xx for arbitrary JSON bodies', async () => {
    const create = await send('POST', BASE, JSON.stringify(merchantBody({ website: 'https://sockshop.no', name: 'Fuzz Target' })));
    assert.equal(create.status, 200, create.text);
    const msn = JSON.parse(create.text).merchantSerialNumber as string;
    const patches = fc.oneof(
      fc.anything(), fc.jsonValue(),
      merchantish().chain((m) => fc.subarray(Object.keys(m), { minLength: 1 }).map((keys) => Object.fromEntries(keys.map((k) => [k, m[k]])))),
    );
    await fc.assert(fc.asyncProperty(patches, async (value) => {
      const json = toJson(value);
      // Never deactivate the target, so later runs still reach the update.
      const body = value !== null && typeof value === 'object' && !Array.isArray(value) && 'deactivate' in value ? undefined : json;
      assertClean(await send('PATCH', `${BASE}/${msn}`, body), `PATCH ${body?.slice(0, 200)}`);
    }), { numRuns: 75 });
  });
});
