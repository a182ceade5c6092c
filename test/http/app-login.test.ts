// The app simulator's login: in production every user needs their PIN, and the login does not tell
// an unknown number from a wrong PIN; in the test environment a user with a PIN needs it too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, DEMO, startTestServer, type TestServer } from '../support/server.ts';
import { verifySecret, hashSecret } from '../../src/security/secrets.ts';

interface LoginAnswer {
  status: number;
  location: string | null;
  retryAfter: string | null;
  session: string | undefined;
  html: string;
}

/** A browser of its own: a CSRF cookie and token from the login page, then the login form posted. */
async function logIn(base: string, phone: string, pin?: string): Promise<LoginAnswer> {
  const page = await fetch(`${base}/app`);
  const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('vipps_csrf='))!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const form = new URLSearchParams({ phone, _csrf: csrf, ...(pin === undefined ? {} : { pin }) });
  const r = await fetch(`${base}/app/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(),
  });
  const session = r.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('vipps_app_session=') && c.length > 'vipps_app_session='.length);
  const html = (await r.text())
    // What differs between two browsers and two typed numbers, not between the answers.
    .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="…"')
    .replaceAll(phone, '{phone}');
  return { status: r.status, location: r.headers.get('location'), retryAfter: r.headers.get('retry-after'), session, html };
}

async function home(base: string, session: string): Promise<string> {
  return (await fetch(`${base}/app`, { headers: { cookie: session } })).text();
}

async function createUser(base: string, body: Record<string, unknown>): Promise<any> {
  const answer = await call(base, 'POST', '/admin/users', { headers: adminHeaders(), body });
  assert.equal(answer.status, 201, answer.text);
  return answer.body;
}

async function setPin(base: string, phone: string, pin: string | null): Promise<any> {
  const answer = await call(base, 'PATCH', `/admin/users/${phone}`, { headers: adminHeaders(), body: { pin } });
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

describe('app login in production', () => {
  let server: TestServer;
  before(async () => {
    // The limit per address is the token route's, tested there; here only the one per number counts.
    server = await startTestServer({ VIPPS_ENV: 'production', APP_LOGIN_FAILURE_LIMIT_PER_NUMBER: '5', AUTH_FAILURE_LIMIT_PER_ADDRESS: '1000' });
  });
  after(async () => {
    await server?.close();
  });

  it('the right PIN logs in; a wrong one, none, or a PIN for a user who has none do not', async () => {
    const user = await createUser(server.url, { phone: '45000001', name: 'Pia Pin', pin: '4821' });
    assert.equal(user.hasPin, true);

    const ok = await logIn(server.url, '45000001', '4821');
    assert.equal(ok.status, 303);
    assert.equal(ok.location, '/app');
    assert.ok(ok.session);
    assert.match(await home(server.url, ok.session), /Logged in as Pia Pin \(45000001\)/);

    for (const pin of ['4822', '482100', '0000']) {
      const wrong = await logIn(server.url, '45000001', pin);
      assert.equal(wrong.status, 400, pin);
      assert.equal(wrong.session, undefined, pin);
      assert.match(wrong.html, /The phone number or the PIN is wrong\./, pin);
    }
    // Production asks for the PIN before anything is looked up.
    for (const pin of [undefined, '', '12', '1234567', 'abcd']) {
      const malformed = await logIn(server.url, '45000001', pin);
      assert.equal(malformed.status, 400, String(pin));
      assert.equal(malformed.session, undefined, String(pin));
      assert.match(malformed.html, /Enter the PIN: 4 to 6 digits\./, String(pin));
    }

    // A user without a PIN cannot log in in production, whatever is typed.
    const plain = await createUser(server.url, { phone: '45000002' });
    assert.equal(plain.hasPin, false);
    for (const pin of ['1234', '0000']) {
      const refused = await logIn(server.url, '45000002', pin);
      assert.equal(refused.status, 400);
      assert.equal(refused.session, undefined);
      assert.match(refused.html, /The phone number or the PIN is wrong\./);
    }
  });

  it('the login page asks for the PIN and names no demo user', async () => {
    const html = await (await fetch(`${server.url}/app`)).text();
    assert.match(html, /<label for="pin">PIN<\/label>/);
    assert.match(html, /<input id="pin"[^>]* type="password"[^>]* required/);
    assert.doesNotMatch(html, new RegExp(DEMO.userPhone));
  });

  it('an unknown number and a wrong PIN get the same answer', async () => {
    await createUser(server.url, { phone: '45000003', pin: '135790' });
    await createUser(server.url, { phone: '45000004' });
    const wrongPin = await logIn(server.url, '45000003', '135791');
    const unknown = await logIn(server.url, '45999999', '135791');
    const noPin = await logIn(server.url, '45000004', '135791');
    assert.equal(wrongPin.status, 400);
    assert.match(wrongPin.html, /The phone number or the PIN is wrong\./);
    for (const other of [unknown, noPin]) {
      assert.equal(other.status, wrongPin.status);
      assert.equal(other.session, undefined);
      assert.equal(other.html, wrongPin.html);
    }
  });

  it('an unknown number costs the login as much work as a wrong PIN (one scrypt)', async () => {
    // A lower bound, which a busy machine cannot break: skipping the scrypt would take a few ms.
    const stored = await hashSecret('2468');
    const scryptMs: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const t = performance.now();
      await verifySecret('1357', stored);
      scryptMs.push(performance.now() - t);
    }
    const loginMs: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const t = performance.now();
      const r = await logIn(server.url, `4599990${i}`, '1357');
      loginMs.push(performance.now() - t);
      assert.equal(r.status, 400);
    }
    assert.ok(Math.min(...loginMs) >= 0.5 * Math.min(...scryptMs), `login ${loginMs.map(Math.round)} ms, scrypt ${scryptMs.map(Math.round)} ms`);
  });

  it('failed logins are limited per number, the same for an unknown number; the right PIN still logs in; other numbers are not held back', async () => {
    await createUser(server.url, { phone: '45000006', pin: '864209' });
    await createUser(server.url, { phone: '45000007', pin: '864209' });
    const answers: LoginAnswer[] = [];
    for (const phone of ['45000006', '45999998']) {
      for (let i = 0; i < 5; i += 1) {
        const wrong = await logIn(server.url, phone, `11111${i}`);
        assert.equal(wrong.status, 400, `${phone} attempt ${i + 1}`);
      }
      const limited = await logIn(server.url, phone, '222222');
      assert.equal(limited.status, 429, phone);
      assert.equal(limited.session, undefined);
      assert.match(limited.retryAfter ?? '', /^\d+$/);
      assert.match(limited.html, /Too many failed logins\. Try again in \d+ seconds\./);
      answers.push(limited);
    }
    // An unknown number over its limit looks exactly like a known one: the limit tells nothing.
    assert.equal(answers[0].html.replace(/in \d+ seconds/, ''), answers[1].html.replace(/in \d+ seconds/, ''));
    // Nobody can lock a user out by failing on their number: the right PIN is still checked and logs in.
    const right = await logIn(server.url, '45000006', '864209');
    assert.equal(right.status, 303);
    assert.ok(right.session, 'the right PIN logs in while the number is over its limit');
    assert.ok((await logIn(server.url, '45000007', '864209')).session, 'another number is not limited');
  });

  it('the PIN can be changed and removed over the operator API; only its hash is stored', async () => {
    await createUser(server.url, { phone: '45000005', pin: '1111' });
    const changed = await setPin(server.url, '45000005', '975310');
    assert.equal(changed.hasPin, true);
    assert.equal((await logIn(server.url, '45000005', '1111')).session, undefined, 'the old PIN no longer works');
    assert.ok((await logIn(server.url, '45000005', '975310')).session, 'the new one does');

    const [row] = await server.services.database.query<{ pin_hash: string }>('test_pin_hash', 'select pin_hash from test_users where phone = $1', ['45000005']);
    assert.match(row.pin_hash, /^scrypt\$/);
    assert.ok(!row.pin_hash.includes('975310'));

    const removed = await setPin(server.url, '45000005', null);
    assert.equal(removed.hasPin, false);
    assert.equal((await logIn(server.url, '45000005', '975310')).session, undefined, 'no PIN: no login in production');
  });
});

describe('app login in the test environment', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('the demo user and users without a PIN log in with the number alone', async () => {
    const demo = await logIn(server.url, DEMO.userPhone);
    assert.equal(demo.status, 303);
    assert.ok(demo.session);
    await createUser(server.url, { phone: '46000001' });
    assert.ok((await logIn(server.url, '46000001', '')).session);
    const html = await (await fetch(`${server.url}/app`)).text();
    assert.doesNotMatch(html, /<input id="pin"[^>]* required/, 'the PIN is optional on the form');
  });

  it('a user with a PIN must give it, also in the test environment', async () => {
    await createUser(server.url, { phone: '46000002', pin: '2580' });
    for (const pin of [undefined, '', '2581']) {
      const refused = await logIn(server.url, '46000002', pin);
      assert.equal(refused.status, 400, String(pin));
      assert.equal(refused.session, undefined, String(pin));
      assert.match(refused.html, /The phone number or the PIN is wrong\./, String(pin));
    }
    assert.ok((await logIn(server.url, '46000002', '2580')).session);
    // An unknown number is refused like a wrong PIN.
    const unknown = await logIn(server.url, '46999999', '2581');
    const wrong = await logIn(server.url, '46000002', '2581');
    assert.equal(unknown.status, wrong.status);
    assert.equal(unknown.html, wrong.html);
  });
});
