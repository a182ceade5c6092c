// The operator console in real Chromium, as an operator uses it (clicks and forms): sign in with the
// operator token, find a payment in the list (a new one arrives live), open it, expire and reject
// waiting payments, run the status batch, create a PSP, follow a readiness item from "not met" to "met"
// and download the report; on every page not one CSP violation or script error. One browser and one
// server for all of it. UPDATE_DOCS_SCREENSHOTS=1 also writes the manual's console screenshots.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_TOKEN, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { forceApprove, init, initBody, initOk } from '../support/payments.ts';
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
    await page.getByText('That is neither the operator token nor a console credential (or it was revoked).').waitFor();
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

  /** Every CSP violation and script error of the pages below, whichever page it happened on. */
  const violations: string[] = [];
  const problems: string[] = [];
  let context: BrowserContext;
  let page: Page;

  /** A context that reports every CSP violation to the test, signed in through the form. */
  async function signedInPage(options: Parameters<typeof phoneContext>[1] = {}): Promise<{ context: BrowserContext; page: Page }> {
    const ctx = await phoneContext(browser, options);
    await ctx.exposeBinding('reportViolation', (_source, text: string) => { violations.push(text); });
    await ctx.addInitScript({ content: `document.addEventListener('securitypolicyviolation', function (e) {
      window.reportViolation(e.violatedDirective + ' ' + e.blockedURI + ' on ' + location.pathname); });` });
    const p = await ctx.newPage();
    p.on('console', (m) => { if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(`${p.url()}: ${m.text()}`); });
    p.on('pageerror', (e) => problems.push(`${p.url()}: ${e.message}`));
    await p.goto(`${base}/console`);
    await p.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    return { context: ctx, page: p };
  }

  async function nav(label: string, heading: string | RegExp = label): Promise<void> {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /** Searches the payments list for a pspTransactionId and opens the payment. */
  async function openPayment(id: string): Promise<void> {
    await nav('Payments');
    await page.getByLabel('Search').fill(id);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('link', { name: id, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Payment ${id}` }).waitFor();
  }

  async function timelineText(): Promise<string> {
    return plain(await page.locator('ol.timeline').innerText());
  }

  async function act(link: string, button: string, notice: string): Promise<void> {
    await page.getByRole('link', { name: link }).click();
    await page.getByRole('heading', { level: 1, name: `${link}?` }).waitFor();
    await page.getByRole('button', { name: button }).click();
    await page.getByRole('status').getByText(notice).waitFor();
  }

  it("the manual's screenshots: a payment's timeline and the go-live readiness report", async () => {
    // UPDATE_DOCS_SCREENSHOTS=1 (npm run docs:screenshots) also writes docs/console-payment-timeline.png
    // and docs/console-readiness.png.
    const docs = process.env.UPDATE_DOCS_SCREENSHOTS === '1';
    const body = initBody(stub.url, { amount: '49900', paymentText: 'One pair of socks' });
    const made = await call(server.url, 'POST', '/psp/v3/psppayments/init', {
      headers: { ...h, 'Idempotency-Key': `docs-${String(body.pspTransactionId)}`, 'Vipps-System-Name': 'acme-webshop', 'Vipps-System-Version': '4.2.0' }, body,
    });
    assert.equal(made.status, 200, made.text);
    const id = String(body.pspTransactionId);
    assert.equal((await forceApprove(server.url, h, id, new URL(made.body.vippsRedirectUrl).searchParams.get('token')!)).status, 200);
    await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 49900 }] } });
    assert.equal((await call(server.url, 'POST', '/admin/status-batch/run', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 200);

    const shot = await signedInPage({ viewport: { width: 1100, height: 1300 } });
    try {
      const p = shot.page;
      await p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Payments' }).click();
      await p.getByLabel('Search').fill(id);
      await p.getByRole('button', { name: 'Show' }).click();
      await p.getByRole('link', { name: id, exact: true }).click();
      await p.getByRole('heading', { level: 1, name: `Payment ${id}` }).waitFor();
      const timeline = plain(await p.locator('ol.timeline').innerText());
      assert.match(timeline, /Payment initiated/);
      assert.match(timeline, /Approved: makePayment with the network token/);
      assert.match(timeline, /Status update received: CAPTURED/);
      // The timeline itself, with the facts beside it.
      await p.locator('#timeline').scrollIntoViewIfNeeded();
      await screenshot(p, 'readme-console-payment-timeline', { docs: docs ? 'console-payment-timeline.png' : undefined });

      await p.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Go-live readiness' }).click();
      await p.getByLabel('PSP').selectOption(DEMO.psp.pspId);
      await p.getByRole('button', { name: 'Show the report' }).click();
      await p.getByRole('heading', { level: 2, name: 'Live flow' }).waitFor();
      assert.match(plain(await p.locator('#item-idempotency-key h3').innerText()), /Idempotency-Key/);
      await screenshot(p, 'readme-console-readiness', { docs: docs ? 'console-readiness.png' : undefined, fullPage: false });
      assert.deepEqual(violations, []);
      assert.deepEqual(problems, []);
    } finally {
      await shot.context.close();
    }
  });

  describe('an operator at work', () => {
    before(async () => {
      ({ context, page } = await signedInPage());
    });
    after(async () => {
      await context?.close();
    });

    it('a payment made meanwhile appears in the list; its page shows the makePayment attempt and the details answer', async () => {
      await nav('Payments');
      await page.getByText('Live: new payments appear at the top.').waitFor();
      const made = await initOk(server.url, h, initBody(stub.url, { amount: '12300' }));
      await page.getByRole('link', { name: made.id }).waitFor({ timeout: 8000 });
      assert.equal((await forceApprove(server.url, h, made.id, made.token)).status, 200);
      await page.getByRole('link', { name: made.id }).click();
      await page.getByRole('heading', { level: 1, name: `Payment ${made.id}` }).waitFor();
      const timeline = await timelineText();
      assert.match(timeline, /Approved: makePayment with the network token/);
      assert.match(timeline, /Outcome RESERVED/);
      assert.match(timeline, new RegExp(`URL ${stub.url.replace(/[.]/g, '\\.')}`));
      const answer = JSON.parse(await page.locator('section[aria-labelledby="details-answer"] pre').innerText());
      assert.equal(answer.pspTransactionId, made.id);
      assert.deepEqual(answer.transactionLogHistory.map((e: { operation: string; amount: number }) => [e.operation, e.amount]), [['RESERVED', 12300]]);
      assert.equal(answer.transactionSummary.remainingAmountToCapture, 12300);
    });

    it('expire now on a waiting payment: the PSP gets a TIMEOUT makePayment and the timeline shows it', async () => {
      const waiting = await initOk(server.url, h, initBody(stub.url));
      await openPayment(waiting.id);
      await act('Expire now', 'Expire now', 'Expired: the PSP was sent TIMEOUT.');
      const [call1] = await stub.waitForCalls(waiting.id, 1);
      assert.equal(call1.body.paymentState, 'TIMEOUT');
      await page.reload();
      const timeline = await timelineText();
      assert.match(timeline, /makePayment: TIMEOUT notification/);
      assert.match(timeline, /Operator expired the payment \(console\)/);
      assert.equal(plain(await page.locator('dd.state').innerText()), 'TIMEOUT');
    });

    it('reject as the user on another waiting payment: the PSP gets USER_CANCEL', async () => {
      const waiting = await initOk(server.url, h, initBody(stub.url));
      await openPayment(waiting.id);
      await act('Reject as the user', 'Reject', 'Rejected as the user: the PSP was sent USER_CANCEL.');
      const [call1] = await stub.waitForCalls(waiting.id, 1);
      assert.equal(call1.body.paymentState, 'USER_CANCEL');
      await page.reload();
      assert.match(await timelineText(), /makePayment: USER_CANCEL notification/);
      assert.match(await timelineText(), /Operator rejected as the user \(console\)/);
      assert.equal(plain(await page.locator('dd.state').innerText()), 'USER_CANCEL');
    });

    it('runs the status batch from the console: the run applies the capture, and the payment shows it', async () => {
      const paid = await initOk(server.url, h, initBody(stub.url, { amount: '20000' }));
      assert.equal((await forceApprove(server.url, h, paid.id, paid.token)).status, 200);
      const update = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', {
        headers: h, body: { transactions: [{ pspTransactionId: paid.id, status: 'CAPTURED', amount: 15000 }] },
      });
      assert.equal(update.status, 200, update.text);
      await nav('Status batch');
      assert.equal(plain(await page.locator('[data-field="pending"]').innerText()), '1');
      await page.getByRole('button', { name: 'Run now' }).click();
      const row = page.locator('tr[id^="run-"]').first();
      await row.waitFor();
      // The page follows the run until it is finished (polling, or reloading itself). Read from here:
      // a predicate evaluated in the page would itself be refused by the CSP (no eval).
      const deadline = Date.now() + 10_000;
      while (!/finished/.test(await row.innerText()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const cells = (await row.locator('td').allInnerTexts()).map(plain);
      assert.equal(cells[1], 'manual');
      assert.equal(cells[2], 'finished');
      assert.equal(cells[5], '1', `applied: ${cells.join(' | ')}`);
      assert.equal(cells[6], '0');

      await openPayment(paid.id);
      const timeline = await timelineText();
      assert.match(timeline, /Status update received: CAPTURED/);
      assert.match(timeline, /APPLIED/);
      const answer = JSON.parse(await page.locator('section[aria-labelledby="details-answer"] pre').innerText());
      assert.equal(answer.transactionSummary.capturedAmount, 15000);
    });

    it("creates a PSP and sees its secret once: the list, reloaded, does not show it", async () => {
      await nav('PSPs');
      await page.getByLabel('Name').fill('Browser PSP');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { level: 1, name: 'PSP created: Browser PSP' }).waitFor();
      const secret = plain(await page.locator('#client-secret').innerText());
      const key = plain(await page.locator('#subscription-key').innerText());
      assert.ok(secret.length >= 20, secret);
      assert.match(key, /^[0-9a-f]{32}$/);
      await page.getByRole('link', { name: 'Back to the PSPs' }).click();
      await page.getByRole('heading', { level: 2, name: 'Browser PSP' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { level: 2, name: 'Browser PSP' }).waitFor();
      const html = await page.content();
      assert.ok(!html.includes(secret), 'the client_secret is not shown again');
      assert.ok(!html.includes(key), 'nor the subscription key');
      await page.goBack();
      assert.ok(!(await page.content()).includes(secret), 'nor by going back');
    });

    it('the readiness report turns "not met" into "met" once the PSP gets error 44, and exports it as Markdown and JSON', async () => {
      await nav('Go-live readiness');
      await page.getByLabel('PSP').selectOption(DEMO.psp.pspId);
      await page.getByRole('button', { name: 'Show the report' }).click();
      const item = page.locator('#item-error-44 h3');
      assert.match(plain(await item.innerText()), /^✗ Not met: Error 44/);
      assert.match(await page.locator('#readiness-markdown').inputValue(), /- \[ \] Error 44/);

      // The PSP sends a pspTransactionId it used before (with another body).
      const first = initBody(stub.url);
      await initOk(server.url, h, first);
      const again = await init(server.url, h, { ...initBody(stub.url), pspTransactionId: first.pspTransactionId });
      assert.equal(again.body[0].errorCode, '44');
      const deadline = Date.now() + 8000;
      do {
        await page.reload();
      } while (!/^✓ Met/.test(plain(await item.innerText())) && Date.now() < deadline && (await page.waitForTimeout(200), true));
      assert.match(plain(await item.innerText()), /^✓ Met: Error 44/);
      assert.match(plain(await page.locator('#item-error-44').innerText()), new RegExp(String(first.pspTransactionId)));
      const markdown = await page.locator('#readiness-markdown').inputValue();
      assert.match(markdown, /- \[x\] Error 44/);
      assert.match(markdown, /^# Go-live readiness: Demo PSP/);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the report as JSON' }).click()]);
      assert.match(download.suggestedFilename(), new RegExp(`^readiness-${DEMO.psp.pspId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
      const report = JSON.parse(await readFile((await download.path())!, 'utf8'));
      assert.equal(report.pspId, DEMO.psp.pspId);
      assert.equal(report.items.find((i: { id: string }) => i.id === 'error-44').met, true);
    });

    it('broke no CSP rule and raised no script error on any page', async () => {
      assert.deepEqual(violations, []);
      assert.deepEqual(problems, []);
      // The detector itself works: an inline style is refused and reported.
      await page.evaluate(`(function () { var s = document.createElement('style'); s.textContent = 'body{color:red}'; document.head.appendChild(s); })()`);
      const deadline = Date.now() + 5000;
      while (violations.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(violations[0] ?? '', /^style-src/);
    });
  });
});
