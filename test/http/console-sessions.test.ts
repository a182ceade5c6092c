// Console sessions are kept on the server: sign-out ends a session also for a copy of its cookie, the
// sessions page lists the open ones and ends them, an idle session ends, a new ADMIN_TOKEN ends them
// all, and every process on one PostgreSQL database agrees.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backend, startTestServer } from '../support/server.ts';
import { ConsoleBrowser, textOf } from '../support/console.ts';

const COOKIE = 'vipps_console_session';

/** A browser holding a copy of another's session cookie (and nothing else). */
function copyOf(from: ConsoleBrowser, base = from.base): ConsoleBrowser {
  const copy = new ConsoleBrowser(base);
  copy.cookies.set(COOKIE, from.cookies.get(COOKIE) ?? '');
  return copy;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('console sessions on the server', () => {
  it('sign-out ends the session: a copy of its cookie taken before is refused afterwards', async () => {
    const server = await startTestServer();
    try {
      const browser = new ConsoleBrowser(server.url);
      await browser.signIn();
      const copy = copyOf(browser);
      assert.equal((await copy.get('/console')).status, 200, 'the copy works while the session is open');
      const out = await browser.post('/console/sign-out');
      assert.equal(out.status, 303);
      const page = await copy.get('/console/payments');
      assert.equal(page.status, 303);
      assert.match(page.location ?? '', /^\/console\/sign-in/);
      const post = await copy.request('POST', '/console/payments/00000000-0000-4000-8000-000000000000/expire', { form: { _csrf: 'x' } });
      assert.equal(post.status, 401);
      // A well-formed token that was never issued is no session either.
      const forged = new ConsoleBrowser(server.url);
      forged.cookies.set(COOKIE, 'A'.repeat(43));
      assert.equal((await forged.get('/console')).status, 303);
    } finally {
      await server.close();
    }
  });

  it('the sessions page lists the open sessions and ends another one, or every other one', async () => {
    const server = await startTestServer();
    try {
      const mine = new ConsoleBrowser(server.url);
      await mine.signIn();
      const other = new ConsoleBrowser(server.url);
      await other.signIn();
      const third = new ConsoleBrowser(server.url);
      await third.signIn();

      const list = await mine.get('/console/sessions');
      assert.equal(list.status, 200);
      const ids = [...list.html.matchAll(/id="session-([0-9a-f-]{36})"/g)].map((m) => m[1]);
      assert.equal(ids.length, 3, textOf(list.html));
      assert.equal((textOf(list.html).match(/This browser/g) ?? []).length, 1);
      assert.equal((textOf(list.html).match(/Another browser/g) ?? []).length, 2);
      assert.match(textOf(list.html), /127\.0\.0\.1/);
      assert.match(textOf(list.html), /after 30 minutes without a request/);
      // The notice comes from a fixed list by its code, never from the URL (nor from Object's prototype).
      for (const code of ['constructor', '__proto__', 'toString']) {
        assert.doesNotMatch((await mine.get(`/console/sessions?done=${code}`)).html, /class="notice"/, code);
      }

      // The other browsers' sessions, from their own sessions page.
      const otherId = /id="session-([0-9a-f-]{36})">\s*<h2>This browser/.exec((await other.get('/console/sessions')).html)?.[1];
      assert.ok(otherId && ids.includes(otherId));
      const confirm = await mine.get(`/console/sessions/${otherId}/end`);
      assert.equal(confirm.status, 200);
      assert.match(textOf(confirm.html), /End this session\?/);
      const ended = await mine.post(`/console/sessions/${otherId}/end`);
      assert.equal(ended.status, 303);
      assert.equal(ended.location, '/console/sessions?done=ended');
      assert.match(textOf((await mine.get(ended.location)).html), /The session was ended\./);
      assert.equal((await other.get('/console')).status, 303, 'the ended session is refused');
      assert.equal((await third.get('/console')).status, 200, 'the third is still open');
      assert.equal((await mine.post(`/console/sessions/${otherId}/end`)).status, 404, 'an ended session cannot be ended again');

      assert.match(textOf((await mine.get('/console/sessions/end-others')).html), /End every other session\?/);
      const others = await mine.post('/console/sessions/end-others');
      assert.equal(others.status, 303);
      assert.equal((await third.get('/console')).status, 303);
      const after = await mine.get('/console/sessions');
      assert.equal(after.status, 200);
      assert.equal([...after.html.matchAll(/id="session-/g)].length, 1);

      // Ending one's own session from the list is signing out.
      const ownId = /id="session-([0-9a-f-]{36})"/.exec(after.html)?.[1];
      const signOut = await mine.post(`/console/sessions/${ownId}/end`);
      assert.equal(signOut.location, '/console/sign-in');
      assert.equal((await mine.get('/console')).status, 303);
    } finally {
      await server.close();
    }
  });

  it('a session unused for CONSOLE_IDLE_TIMEOUT_SECONDS ends; one in use stays open', async () => {
    const server = await startTestServer({ CONSOLE_IDLE_TIMEOUT_SECONDS: '2' });
    try {
      const browser = new ConsoleBrowser(server.url);
      await browser.signIn();
      for (let i = 0; i < 5; i++) {
        await sleep(800);
        const page = await browser.get('/console/sessions');
        assert.equal(page.status, 200, `in use after ${(i + 1) * 0.8} s`);
        assert.match(textOf(page.html), /after 2 seconds without a request/);
      }
      await sleep(2300);
      assert.equal((await browser.get('/console')).status, 303, 'idle for longer than the timeout');
    } finally {
      await server.close();
    }
  });

  it('a new ADMIN_TOKEN ends every session made with the old one', { skip: backend() !== 'postgres' && 'needs a database two servers can share' }, async () => {
    const first = await startTestServer();
    // A process started with another token on the same database (a restart with a new ADMIN_TOKEN).
    const second = await startTestServer({ ADMIN_TOKEN: 'another-operator-token-0123456789' }, { databaseUrl: first.databaseUrl });
    try {
      const browser = new ConsoleBrowser(first.url);
      await browser.signIn();
      assert.equal((await copyOf(browser, second.url).get('/console')).status, 303);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('two processes on one PostgreSQL agree: a session ended through one is refused by the other at once', { skip: backend() !== 'postgres' && 'needs PostgreSQL' }, async () => {
    const a = await startTestServer();
    const b = await startTestServer({}, { databaseUrl: a.databaseUrl });
    try {
      const browser = new ConsoleBrowser(a.url);
      await browser.signIn();
      const atB = copyOf(browser, b.url);
      assert.equal((await atB.get('/console')).status, 200, 'a session made by one process is good in the other');
      await browser.post('/console/sign-out');
      assert.equal((await atB.get('/console')).status, 303);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
