// The operator console's shell over HTTP: signing in and out with the operator token, the limits on
// wrong tokens, CSRF, the guard on every page, and the security headers of its pages.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.ts';
import { ConsoleBrowser, textOf } from '../support/console.ts';

// Every entry of the navigation.
const PAGES = ['/console', '/console/payments', '/console/batch', '/console/psps', '/console/merchants', '/console/users', '/console/readiness'];

describe('operator console: signing in', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_ADDRESS: '4', AUTH_FAILURE_LIMIT_PER_CLIENT: '100' });
  });
  after(async () => {
    await server.close();
  });

  it('before signing in, pages redirect to the sign-in page and posts are refused with 401', async () => {
    const browser = new ConsoleBrowser(server.url);
    for (const path of PAGES) {
      const page = await browser.get(path);
      assert.equal(page.status, 303, path);
      assert.match(page.location ?? '', /^\/console\/sign-in/, path);
    }
    const deep = await browser.get('/console/payments?state=RESERVED');
    assert.equal(deep.location, `/console/sign-in?next=${encodeURIComponent('/console/payments?state=RESERVED')}`);
    const signInPage = await browser.get('/console/sign-in');
    assert.equal(signInPage.status, 200);
    assert.match(signInPage.html, /<label for="token">Operator token or console credential<\/label>/);
    const post = await browser.post('/console/sign-out');
    assert.equal(post.status, 303);
    const action = await browser.request('POST', '/console/payments/00000000-0000-4000-8000-000000000000/expire', { form: { _csrf: browser.csrf } });
    assert.equal(action.status, 401);
    assert.match(action.html, /href="\/console\/sign-in"/);
  });

  it('the right token signs in with a strict HttpOnly cookie; every page then answers 200; signing out ends it', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.get('/console/sign-in?next=/console/payments');
    const answer = await browser.post('/console/sign-in', { token: 'test-admin-token-0123456789', next: '/console/payments' });
    assert.equal(answer.status, 303);
    assert.equal(answer.location, '/console/payments');
    const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('vipps_console_session='));
    assert.ok(cookie);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/console/);
    assert.doesNotMatch(cookie, /Secure/, 'PUBLIC_URL is http here');
    for (const path of PAGES) {
      const page = await browser.get(path);
      assert.equal(page.status, 200, path);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /default-src 'none'/);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.doesNotMatch(page.html, /<script(?![^>]*\bsrc="\/console\/assets\/)/);
      assert.doesNotMatch(page.html, /<style|\sstyle=|\son[a-z]+=/i);
      assert.match(page.html, /href="\/console\/readiness"/);
      assert.match(page.html, /Sign out/);
    }
    const out = await browser.post('/console/sign-out');
    assert.equal(out.status, 303);
    assert.equal((await browser.get('/console')).status, 303);
  });

  it('a forged cookie is no session', async () => {
    const browser = new ConsoleBrowser(server.url);
    for (const forged of [`${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`, 'A'.repeat(43), 'x'.repeat(5000)]) {
      browser.cookies.set('vipps_console_session', forged);
      assert.equal((await browser.get('/console')).status, 303);
    }
  });

  it('the assets are served from /console/assets', async () => {
    const browser = new ConsoleBrowser(server.url);
    const page = await browser.get('/console/sign-in');
    for (const m of page.html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)) {
      const r = await fetch(`${server.url}${m[1].replace(/&amp;/g, '&')}`);
      assert.equal(r.status, 200, m[1]);
    }
    assert.equal((await fetch(`${server.url}/console/assets/nope.js`)).status, 404);
  });

  it('a form without its CSRF token is refused', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.get('/console/sign-in');
    const answer = await browser.post('/console/sign-in', { token: 'test-admin-token-0123456789', _csrf: 'forged' });
    assert.equal(answer.status, 403);
    assert.equal((await browser.get('/console')).status, 303);
  });

  it('errors are console pages: an unknown payment, an action on one, a form too large', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.signIn();
    const missing = await browser.get('/console/payments/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /text\/html/);
    assert.match(textOf(missing.html), /Payment not found There is no payment with this id\./);
    // The domain's 404 (an action on a payment that does not exist) in the same page.
    const refused = await browser.request('POST', '/console/payments/00000000-0000-4000-8000-000000000000/expire', { form: { _csrf: browser.csrf } });
    assert.equal(refused.status, 404);
    assert.match(textOf(refused.html), /Not found No such payment\./);
    const large = await browser.request('POST', '/console/payments/00000000-0000-4000-8000-000000000000/expire', {
      form: { _csrf: browser.csrf, padding: 'x'.repeat(64 * 1024) },
    });
    assert.equal(large.status, 413);
    assert.match(large.headers.get('content-type') ?? '', /text\/html/);
    assert.match(textOf(large.html), /The form sent was too large\./);
  });

  it('a wrong token is a clear error, and too many of them are refused for a while', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.get('/console/sign-in');
    const wrong = await browser.post('/console/sign-in', { token: 'not-the-token' });
    assert.equal(wrong.status, 401);
    assert.match(textOf(wrong.html), /That is neither the operator token nor a console credential/);
    let last = wrong;
    for (let i = 0; i < 6 && last.status !== 429; i++) last = await browser.post('/console/sign-in', { token: `wrong-${i}` });
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    assert.match(textOf(last.html), /Too many failed sign-ins/);
    // Over the address's limit even the right token waits.
    const right = await browser.post('/console/sign-in', { token: 'test-admin-token-0123456789' });
    assert.equal(right.status, 429);
  });
});

describe('operator console: wrong tokens from elsewhere', () => {
  it('cannot lock the operator out: over the operator limit, wrong tokens get 429 and the right token from another address signs in', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_ADDRESS: '100', AUTH_FAILURE_LIMIT_PER_CLIENT: '3' });
    try {
      const attacker = new ConsoleBrowser(server.url, { from: '127.0.0.2' });
      await attacker.get('/console/sign-in');
      for (let i = 0; i < 3; i++) assert.equal((await attacker.post('/console/sign-in', { token: `wrong-${i}` })).status, 401);
      const limited = await attacker.post('/console/sign-in', { token: 'wrong-again' });
      assert.equal(limited.status, 429);
      assert.match(textOf(limited.html), /Too many failed sign-ins/);
      const operator = new ConsoleBrowser(server.url, { from: '127.0.0.1' });
      await operator.get('/console/sign-in');
      const right = await operator.post('/console/sign-in', { token: 'test-admin-token-0123456789' });
      assert.equal(right.status, 303);
      assert.equal((await operator.get('/console')).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('operator console: live streams and shutdown', () => {
  it('a server with a payment stream open still stops at once', async () => {
    const server = await startTestServer();
    try {
      const browser = new ConsoleBrowser(server.url);
      await browser.signIn();
      const stream = await fetch(`${server.url}/console/payments/events`, {
        headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/event-stream' },
      });
      assert.equal(stream.status, 200);
      const started = Date.now();
      await server.close();
      assert.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms`);
      await stream.body?.cancel().catch(() => {});
    } catch (err) {
      await server.close().catch(() => {});
      throw err;
    }
  });
});

describe('operator console behind https', () => {
  it('the session cookie is Secure when PUBLIC_URL is https', async () => {
    const server = await startTestServer({ PUBLIC_URL: 'https://psp.example.com' });
    try {
      const browser = new ConsoleBrowser(server.url);
      await browser.get('/console/sign-in');
      const answer = await browser.post('/console/sign-in', { token: 'test-admin-token-0123456789' });
      assert.equal(answer.status, 303);
      const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('vipps_console_session='));
      assert.match(cookie ?? '', /; Secure/);
      assert.match(cookie ?? '', /SameSite=Strict/);
    } finally {
      await server.close();
    }
  });
});
