// The operator console in real Chromium on a phone-sized screen: sign in with the operator token, find a
// payment in the list (a new one arrives live), open it, and not one CSP violation or script error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ADMIN_TOKEN, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { forceApprove, initBody, initOk } from '../support/payments.ts';
import { launchChromium, phoneContext, plain, screenshot, skipWithoutChromium } from '../support/browser.ts';

describe('operator console in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let stub: PspStub;
  let browser: Browser;
  let h: Record<string, string>;
  let base: string;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    base = server.services.config.publicUrl;
    h = await pspHeaders(server.url);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await stub?.close();
  });

  it('signs in on a phone, sees a new payment arrive, opens it, and the page breaks no CSP rule', async () => {
    const first = await initOk(server.url, h, initBody(stub.url));
    assert.equal((await forceApprove(server.url, h, first.id, first.token)).status, 200);

    const context = await phoneContext(browser);
    await context.addInitScript({ content: `window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', function (e) { window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });` });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      // The refused sign-in is answered 401 on purpose.
      if (/status of 401/.test(m.text())) return;
      if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${base}/console`);
    await page.getByLabel('Operator token').fill('wrong token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That is not the operator token.').waitFor();
    await page.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await screenshot(page, 'console-1-overview');

    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Payments' }).waitFor();
    await page.getByText('Live: new payments appear at the top.').waitFor();
    const second = await initOk(server.url, h, initBody(stub.url));
    await page.getByRole('link', { name: second.id }).waitFor({ timeout: 8000 });
    assert.ok(await page.evaluate<number>('document.documentElement.scrollWidth') <= 400, 'the list page fits a phone');
    await screenshot(page, 'console-2-payments');

    await page.getByRole('link', { name: first.id }).click();
    await page.getByRole('heading', { level: 1, name: `Payment ${first.id}` }).waitFor();
    const text = plain(await page.locator('main').innerText());
    assert.match(text, /Approved: makePayment with the network token/);
    assert.match(text, /RESERVED/);
    // The copy button appears only with script; the curl is there either way.
    assert.equal(await page.getByRole('button', { name: 'Copy' }).isVisible(), true);
    assert.match(await page.locator('#curl').inputValue(), /\/details'/);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 400, `the page fits a phone's width (${width}px)`);
    await screenshot(page, 'console-3-payment');

    const violations = await page.evaluate('window.cspViolations');
    assert.deepEqual(violations, []);
    assert.deepEqual(problems, []);
    // The detector itself works: an inline style is refused and seen.
    await page.evaluate(`(function () { var s = document.createElement('style'); s.textContent = 'body{color:red}'; document.head.appendChild(s); })()`);
    await page.waitForFunction('window.cspViolations.length > 0');
    await context.close();
  });
});
