// Console sessions in Chromium: an operator signs in, sees the session on the Sessions page, a copy of
// the session cookie is taken, the operator signs out, and the copy is refused at its next request —
// by this process and, on PostgreSQL, by a second process on the same database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Cookie } from 'playwright-core';
import { ADMIN_TOKEN, backend, startTestServer, type TestServer } from '../support/server.ts';
import { launchChromium, phoneContext, plain, skipWithoutChromium } from '../support/browser.ts';

describe('console sessions in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let second: TestServer | undefined;
  let browser: Browser;

  before(async () => {
    server = await startTestServer();
    if (backend() === 'postgres') second = await startTestServer({}, { databaseUrl: server.databaseUrl });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await second?.close();
    await server?.close();
  });

  /** Opens the console of `base` in a new browser holding only `cookie`; where the browser ends up. */
  async function visitWith(cookie: Cookie, base: string): Promise<{ path: string; heading: string }> {
    const context = await phoneContext(browser);
    try {
      await context.addCookies([{ name: cookie.name, value: cookie.value, url: `${base}/console` }]);
      const page = await context.newPage();
      await page.goto(`${base}/console/payments`);
      return { path: new URL(page.url()).pathname, heading: plain(await page.locator('h1').first().innerText()) };
    } finally {
      await context.close();
    }
  }

  it('signs in, copies the session cookie, signs out, and the copy is refused on the next request', async () => {
    const base = server.services.config.publicUrl;
    const context = await phoneContext(browser);
    const page = await context.newPage();
    await page.goto(`${base}/console`);
    await page.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    assert.match(plain(await page.locator('main').innerText()), /This browser/);

    const cookie = (await context.cookies(`${base}/console`)).find((c) => c.name === 'vipps_console_session');
    assert.ok(cookie, 'the session cookie');
    assert.equal(cookie.httpOnly, true);
    // The copy works while the session is open, in this process and in the second one.
    assert.equal((await visitWith(cookie, base)).heading, 'Payments');
    if (second) assert.equal((await visitWith(cookie, second.url)).heading, 'Payments');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await context.close();

    const afterSignOut = await visitWith(cookie, base);
    assert.equal(afterSignOut.path, '/console/sign-in');
    assert.equal(afterSignOut.heading, 'Sign in');
    if (second) assert.equal((await visitWith(cookie, second.url)).path, '/console/sign-in', 'refused by the second process too');
  });
});
