// The API explorer at /docs in real Chromium: it renders the documents under its strict CSP
// (no violation, no script error), switches between them, and "Try it out" runs a request against
// this server and shows its answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { launchChromium, screenshot, skipWithoutChromium } from '../support/browser.ts';

describe('the API explorer in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** The PUBLIC_URL: the documents' servers are on it, so the explorer is opened there (same origin). */
  let base: string;
  const problems: string[] = [];

  before(async () => {
    server = await startTestServer();
    base = server.services.config.publicUrl;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    // The browser's own report of each CSP violation (also for those it does not log).
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
      });`,
    });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  /** The path of every operation the explorer lists. */
  async function listedPaths(): Promise<string[]> {
    return page.locator('.opblock-summary-path').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-path') ?? ''));
  }

  it('lists the PSP API, then the Signup, ePayment, Webhooks, Recurring and Operator APIs, without a CSP violation or script error', async () => {
    const answer = await page.goto(`${base}/docs`);
    assert.equal(answer?.status(), 200);
    await page.locator('.opblock-summary-path[data-path="/v3/psppayments/init"]').waitFor();
    const psp = await listedPaths();
    for (const path of ['/v3/psppayments/init', '/v3/psppayments/updatestatus', '/v3/psppayments/{pspTransactionId}/details']) {
      assert.ok(psp.includes(path), `${path} in ${psp.join(', ')}`);
    }
    assert.ok(!psp.some((p) => p.includes('makePaymentUrl')), 'the makePayment callback is not listed as a path');
    assert.match(await page.locator('.servers select option').first().textContent() ?? '', new RegExp(`^${base}/psp\\b`));
    // The PSP's makePayment endpoint is the init operation's callback.
    const init = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/v3/psppayments/init"]') });
    await init.locator('.opblock-summary').first().click();
    await init.getByText('Callbacks', { exact: true }).click();
    await init.getByText('{$request.body#/makePaymentUrl}').first().waitFor();
    await screenshot(page, 'docs-psp-api-init-callbacks');

    const selector = page.locator('.topbar select');
    assert.deepEqual(await selector.locator('option').allTextContents(), ['PSP API', 'Signup API', 'ePayment API (PSP)', 'Webhooks API', 'Recurring API (PSP)', 'Operator API']);
    await selector.selectOption({ label: 'Signup API' });
    await page.locator('.opblock-summary-path[data-path="/merchant-management/psp/v1/merchants"]').first().waitFor();
    await selector.selectOption({ label: 'ePayment API (PSP)' });
    await page.locator('.opblock-summary-path[data-path="/epayment/v1/payments"]').first().waitFor();
    const epayment = await listedPaths();
    assert.ok(epayment.length >= 7 && epayment.every((p) => p.startsWith('/epayment/v1/')), epayment.join(', '));
    await selector.selectOption({ label: 'Webhooks API' });
    await page.locator('.opblock-summary-path[data-path="/v1/webhooks"]').first().waitFor();
    await selector.selectOption({ label: 'Operator API' });
    await page.locator('.opblock-summary-path[data-path="/admin/psps"]').first().waitFor();
    const operator = await listedPaths();
    assert.ok(operator.length > 0 && operator.every((p) => p.startsWith('/admin/')), operator.join(', '));
    await screenshot(page, 'docs-operator-api');
    assert.deepEqual(problems, []);
  });

  it('runs "Try it out" on GET /admin/psps with the ADMIN_TOKEN given to Authorize, and shows the 200 answer', async () => {
    await page.goto(`${base}/docs?urls.primaryName=Operator%20API`);
    await page.locator('.opblock-summary-path[data-path="/admin/psps"]').first().waitFor();

    await page.locator('.auth-wrapper button.authorize').click();
    const modal = page.locator('.modal-ux');
    await modal.locator('input').first().fill(ADMIN_TOKEN);
    await modal.locator('button.modal-btn.authorize').click();
    await modal.locator('button.btn-done').click();

    const operation = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/admin/psps"]') });
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    assert.equal((await status.textContent())?.trim(), '200');
    const body = await operation.locator('.live-responses-table .response-col_description pre').first().textContent();
    assert.match(body ?? '', /"psps"/);
    assert.match(await operation.locator('.request-url pre').textContent() ?? '', new RegExp(`^${base}/admin/psps`));
    await screenshot(page, 'docs-try-it-out');
    assert.deepEqual(problems, []);
  });
});
