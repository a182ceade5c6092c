// The user-facing pages over plain HTTP (the browser tests drive them in Chromium): Norwegian amounts,
// phone numbers as typed, security headers, sessions that cannot be forged, and whatever arrives at
// /landing, /app or /assets is answered with a clean page, never a 5xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { initBody, initOk } from '../support/payments.ts';
import { formatNok } from '../../src/http/web/layout.ts';
import { normalizePhone } from '../../src/http/web/landing.ts';

describe('formatting', () => {
  it('amounts in øre read as Norwegian kroner with non-breaking spaces', () => {
    assert.equal(formatNok(49900), '499,00\u00a0kr');
    assert.equal(formatNok(100), '1,00\u00a0kr');
    assert.equal(formatNok(5), '0,05\u00a0kr');
    assert.equal(formatNok(120000), '1\u00a0200,00\u00a0kr');
    assert.equal(formatNok(123456789), '1\u00a0234\u00a0567,89\u00a0kr');
  });

  it('phone numbers as people type them', () => {
    for (const typed of ['92929292', ' 92929292 ', '+47 929 29 292', '0047-92929292', '929 29 292', '(+47) 92929292']) {
      assert.equal(normalizePhone(typed), '92929292', typed);
    }
    for (const typed of ['', '9292929', '929292921', '+46 92929292', 'abcdefgh', '92929292x']) {
      assert.equal(normalizePhone(typed), undefined, typed);
    }
  });
});

describe('the pages over HTTP', () => {
  let server: TestServer;
  let h: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
  });

  function cookieOf(response: Response, name: string): string | undefined {
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair.startsWith(`${name}=`)) return pair;
    }
    return undefined;
  }

  it('pages carry a strict CSP and the other security headers; only the 3-D Secure return may be framed, by the app', async () => {
    const { token } = await initOk(server.url, h, initBody('http://127.0.0.1:9/x'));
    for (const path of [`/landing?token=${token}`, '/app', '/app/receipts', '/landing?token=unknown', '/app/no-such-page']) {
      const r = await fetch(`${server.url}${path}`);
      await r.text();
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /style-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /form-action 'self'/, path);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('cache-control'), 'no-store', path);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/, path);
    }
    const intercept = await fetch(`${server.url}/mobileintercept?transactionId=nope&responsecode=OK`);
    assert.equal(intercept.status, 404);
    assert.match(await intercept.text(), /Unknown payment/);
    assert.match(intercept.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/);
    assert.equal(intercept.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  it('the pages hold no inline script or style, and their assets come from this server', async () => {
    const { token } = await initOk(server.url, h, initBody('http://127.0.0.1:9/x'));
    const html = await (await fetch(`${server.url}/landing?token=${token}`)).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc="\/assets\/)/);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1|localhost)/);
    for (const [asset, type] of [['app.js', 'text/javascript'], ['app.css', 'text/css'], ['icon.svg', 'image/svg+xml']]) {
      const r = await fetch(`${server.url}/assets/${asset}`);
      assert.equal(r.status, 200, asset);
      assert.ok((r.headers.get('content-type') ?? '').startsWith(type), asset);
      const etag = r.headers.get('etag')!;
      assert.equal((await fetch(`${server.url}/assets/${asset}`, { headers: { 'if-none-match': etag } })).status, 304);
    }
    assert.equal((await fetch(`${server.url}/assets/nope.js`)).status, 404);
  });

  it('a session cookie with a forged signature or another phone number is not a session', async () => {
    const first = await fetch(`${server.url}/app`);
    await first.text();
    const csrfCookie = cookieOf(first, 'vipps_csrf')!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await fetch(`${server.url}/app`, { headers: { cookie: csrfCookie } })).text())![1];
    const login = await fetch(`${server.url}/app/login`, {
      method: 'POST', redirect: 'manual', headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ phone: DEMO.userPhone, _csrf: csrf }).toString(),
    });
    assert.equal(login.status, 303);
    const session = cookieOf(login, 'vipps_app_session')!;
    assert.match(session, /HttpOnly|vipps_app_session=/);
    assert.ok(login.headers.getSetCookie().some((c) => /vipps_app_session=.*HttpOnly.*SameSite=Lax/.test(c)));

    const home = async (cookie: string) => (await (await fetch(`${server.url}/app`, { headers: { cookie } })).text());
    assert.match(await home(session), /<h1>Payment requests<\/h1>/);
    const [, value] = session.split('=');
    const [phone, expires, sig] = value.split('.');
    const otherPhone = `vipps_app_session=41234567.${expires}.${sig}`;
    const flipped = `vipps_app_session=${phone}.${expires}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const selfSigned = `vipps_app_session=${phone}.${expires}.${createHmac('sha256', 'guess').update(`session\u0000${phone}.${expires}`).digest('base64url')}`;
    const later = `vipps_app_session=${phone}.${Number(expires) + 1000}.${sig}`;
    for (const forged of [otherPhone, flipped, selfSigned, later, 'vipps_app_session=garbage']) {
      assert.match(await home(forged), /<h1>Log in to Vipps<\/h1>/, forged);
    }
  });

  it('whatever arrives at /landing, /app or /assets: never a 5xx; errors are HTML pages', async () => {
    const segment = fc.oneof(
      fc.webSegment(),
      fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
      fc.constantFrom('%00', '%ED%A0%80', '..', '%2F', 'payments', 'state', 'pay', 'reject', 'login', 'logout', 'deeplink', 'receipts',
        '00000000-0000-0000-0000-000000000000', 'a'.repeat(5000)),
    );
    const query = fc.oneof(
      fc.constant(''),
      fc.webQueryParameters().map((q) => `?${q}`),
      segment.map((s) => `?token=${s}`),
      fc.tuple(segment, segment).map(([a, b]) => `?token=${a}&token=${b}&phone=${b}&next=${a}`),
    );
    const path = fc.tuple(fc.constantFrom('/landing', '/app', '/assets', '/landing/state', '/app/payments', '/app/deeplink'), fc.array(segment, { maxLength: 3 }), query)
      .map(([root, parts, q]) => `${root}${parts.map((p) => `/${p}`).join('')}${q}`);
    const body = fc.oneof(
      fc.constant(undefined),
      fc.dictionary(fc.constantFrom('_csrf', 'token', 'phone', 'cardId', 'next', '__proto__', 'constructor'), fc.string({ unit: 'binary', maxLength: 40 }))
        .map((d) => ({ type: 'application/x-www-form-urlencoded', text: new URLSearchParams(d).toString() })),
      fc.jsonValue().map((v) => ({ type: 'application/json', text: JSON.stringify(v) })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((t) => ({ type: 'application/x-www-form-urlencoded', text: t })),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'POST'), path, body, async (method, p, b) => {
      const r = await fetch(`${server.url}${p}`, {
        method, redirect: 'manual',
        ...(method === 'POST' && b ? { headers: { 'content-type': b.type }, body: b.text } : {}),
      });
      const text = await r.text();
      assert.ok(r.status < 500, `${method} ${p.slice(0, 200)} → ${r.status}: ${text.slice(0, 300)}`);
      // What reached the application (a URL whose percent-encoding is not UTF-8 is refused by the
      // router before any route, without the application's headers). The URL parser resolves dot
      // segments: /landing/.. is /.
      const reached = r.headers.get('x-content-type-options') === 'nosniff';
      const pathname = new URL(`${server.url}${p}`).pathname.toLowerCase();
      if (reached && r.status >= 400 && /^\/(landing|app)(\/|$)/.test(pathname) && !/\/state\/?$/.test(pathname)) {
        assert.match(r.headers.get('content-type') ?? '', /^text\/html/, `${method} ${p.slice(0, 200)} → ${r.status}`);
      }
    }), { numRuns: 300 });
  });
});
