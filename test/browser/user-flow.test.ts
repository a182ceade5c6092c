// The user's side in real Chromium: landing page → app simulator → Pay / Reject / 3-D Secure, cards,
// the isApp deeplink, the skipLandingPage push, receipts, the way back to the store, CSRF and a
// landing page without JavaScript. One server, one PSP stub and one browser for the whole file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminHeaders, call, DEMO, DEMO_CLIENT, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, details, initBody, initOk, uniqueId } from '../support/payments.ts';
import { launchChromium, phoneContext, plain, rawScreenshot, screenshot, skipWithoutChromium } from '../support/browser.ts';

describe('the user side in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let stub: PspStub;
  let browser: Browser;
  let h: Record<string, string>;
  /** The PUBLIC_URL: the vippsRedirectUrl and the 3-D Secure operations URLs are on it. */
  let base: string;
  /** The demo user's phone: one browser context and page, logged in to the app, shared by most tests. */
  let demo: { context: BrowserContext; page: Page; problems: string[] };

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ MAKE_PAYMENT_TIMEOUT_MS: '5000' });
    base = server.services.config.publicUrl;
    h = await pspHeaders(server.url);
    browser = await launchChromium();
    const context = await phoneContext(browser);
    await logIn(context);
    demo = { context, ...(await openPage(context)) };
  });
  after(async () => {
    await demo?.context.close();
    await browser?.close();
    await server?.close();
    await stub?.close();
  });

  /** A payment of the demo merchant, with a paymentText that tells it apart in the app's lists. */
  async function newPayment(overrides: Record<string, unknown> = {}, headers = h) {
    const text = `Socks ${uniqueId('')}`;
    const body = initBody(stub.url, { paymentText: text, pspRedirectUrl: `${stub.storeUrl}/return?order=${uniqueId('o')}`, ...overrides });
    const created = await initOk(server.url, headers, body);
    return { ...created, body, text: body.paymentText as string };
  }

  /** A page that records what the browser complains about (CSP violations, script errors). */
  async function openPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[0-9]|status of 410/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    return { page, problems };
  }

  async function mainText(page: Page): Promise<string> {
    return plain(await page.locator('main').innerText());
  }

  /** Waits for the page's heading; if it does not come, says what the page shows instead. */
  async function heading(page: Page, name: string | RegExp): Promise<void> {
    try {
      await page.getByRole('heading', { level: 1, name }).waitFor();
    } catch (err) {
      const shown = await page.locator('main').innerText({ timeout: 1000 }).catch(() => '(no main)');
      throw new Error(`no heading ${String(name)} on ${page.url()}; the page shows: ${plain(shown).slice(0, 500)}`, { cause: err });
    }
  }

  /** The CSRF token of the forms of a page, as the browser of `context` would get it. */
  async function csrfOf(context: BrowserContext, path: string): Promise<string> {
    const page = await context.request.get(`${base}${path}`);
    const m = /name="_csrf" value="([^"]+)"/.exec(await page.text());
    assert.ok(m, `a form on ${path}`);
    return m[1];
  }

  /** Logs the browser of `context` in to the app simulator (the login form, posted without rendering). */
  async function logIn(context: BrowserContext, phone = DEMO.userPhone): Promise<void> {
    const answer = await context.request.post(`${base}/app/login`, { form: { phone, _csrf: await csrfOf(context, '/app') }, maxRedirects: 0 });
    assert.equal(answer.status(), 303);
  }

  /** Gets past the landing page of `p` with `phone` (the form, posted without rendering; the full flow test renders it). */
  async function passLandingPage(context: BrowserContext, p: { url: string; token: string }, phone = DEMO.userPhone): Promise<void> {
    const landing = new URL(p.url).pathname + new URL(p.url).search;
    const answer = await context.request.post(`${base}/landing`, { form: { token: p.token, phone, _csrf: await csrfOf(context, landing) }, maxRedirects: 0 });
    assert.equal(answer.status(), 303);
  }

  /**
   * The payment's request sent to the app of `context` (logged in as `user`), opened from the list of
   * requests: the payment screen, on `opened` (default: the shared demo user's page).
   */
  async function openInApp(p: { url: string; token: string; text: string }, opened = demo, user = DEMO.userPhone) {
    await passLandingPage(opened.context, p, user);
    const { page } = opened;
    await page.goto(`${base}/app`);
    await heading(page, 'Payment requests');
    await page.getByRole('link', { name: new RegExp(p.text) }).click();
    await page.getByRole('button', { name: 'Pay' }).waitFor();
    return opened;
  }

  /** No CSP violation or script error on the shared page during the test. */
  function noProblems(opened = demo): void {
    const seen = opened.problems.splice(0);
    assert.deepEqual(seen, []);
  }

  it('the README\'s screenshots: the landing page and the app\'s payment screen of a fixed payment', async () => {
    // UPDATE_DOCS_SCREENSHOTS=1 also writes docs/landing-page.png and docs/app-payment-screen.png.
    const docs = process.env.UPDATE_DOCS_SCREENSHOTS === '1';
    const body = initBody(stub.url, { merchantOrderId: 'ACME-1001', paymentText: 'One pair of socks', pspRedirectUrl: 'https://example.com/return' });
    const p = { ...(await initOk(server.url, h, body)), text: 'One pair of socks' };
    const { page } = demo;
    await page.goto(p.url);
    await heading(page, 'Pay');
    await screenshot(page, 'readme-landing-page', { docs: docs ? 'landing-page.png' : undefined });
    await openInApp(p);
    await heading(page, 'Acme Shop');
    await screenshot(page, 'readme-app-payment-screen', { docs: docs ? 'app-payment-screen.png' : undefined });
    await page.getByRole('button', { name: 'Reject' }).click();
    await heading(page, 'Payment rejected');
    noProblems();
  });

  it('full flow: landing page → app → Pay → RESERVED, with progress, receipt and the way back to the store', async () => {
    const p = await newPayment();
    stub.on(p.id, { kind: 'slow', ms: 1500 });
    const context = await phoneContext(browser);
    const { page, problems } = await openPage(context);

    const landing = await page.goto(p.url);
    assert.equal(landing?.status(), 200);
    const csp = landing?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(landing?.headers()['referrer-policy'], 'no-referrer');
    await heading(page, 'Pay');
    const landingText = await mainText(page);
    assert.ok(landingText.includes('499,00 kr to Acme Shop'), landingText);
    assert.ok(landingText.includes(p.text), landingText);
    const phoneField = page.getByLabel('Phone number');
    assert.equal(await phoneField.inputValue(), DEMO.userPhone, 'pre-filled from customerMobileNumber');
    assert.equal(await phoneField.getAttribute('autocomplete'), 'tel', 'the browser remembers the number');
    assert.equal(await phoneField.isEditable(), true);
    await screenshot(page, 'flow-1-landing');

    await page.getByRole('button', { name: 'Next' }).click();
    await heading(page, 'Complete in Vipps');
    assert.match(await mainText(page), /A payment request was sent to 92929292\. Open the Vipps app/);
    assert.equal((await adminPayment(server.url, p.id)).state, 'AWAITING_USER');
    await screenshot(page, 'flow-2-complete-in-vipps');

    await page.getByRole('link', { name: 'Open the Vipps app simulator' }).click();
    await heading(page, 'Log in to Vipps');
    assert.equal(await page.getByLabel('Phone number').inputValue(), DEMO.userPhone);
    await screenshot(page, 'flow-3-app-login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading(page, 'Payment requests');
    await screenshot(page, 'flow-4-app-requests');
    await page.getByRole('link', { name: new RegExp(p.text) }).click();

    await heading(page, 'Acme Shop');
    const screen = await mainText(page);
    for (const expected of ['Pay to', '#123456 · ACME AS', '499,00 kr', p.text, `Order ID ${p.body.merchantOrderId}`]) {
      assert.ok(screen.includes(expected), `the payment screen shows ${expected}: ${screen}`);
    }
    // The seeded user holds a card of each kind; the Visa debit card is chosen by default.
    assert.equal(await page.getByRole('group', { name: 'Pay with' }).getByRole('radio', { name: 'Visa •••• 0010' }).isChecked(), true);
    await screenshot(page, 'flow-5-app-payment');

    // While makePayment is in flight the old page stays on screen; what it shows is recorded from
    // inside the page (Playwright's locators wait for the pending navigation to finish).
    const progress: Array<{ pay: string; payDisabled: boolean; rejectDisabled: boolean; status: string }> = [];
    let shot: Promise<void> | undefined;
    const cdp = await context.newCDPSession(page);
    await page.exposeFunction('reportProgress', (state: (typeof progress)[number]) => {
      progress.push(state);
      // Playwright's screenshots wait for the navigation too; the DevTools protocol's does not.
      shot ??= cdp.send('Page.captureScreenshot', { format: 'png' })
        .then(({ data }) => rawScreenshot('flow-6-app-processing', Buffer.from(data, 'base64'))).catch(() => {});
    });
    // (A string: the test code is compiled without the DOM's types.)
    await page.evaluate(`(() => {
      const buttons = () => [...document.querySelectorAll('main button')];
      const pay = buttons().find((b) => b.textContent === 'Pay');
      const reject = buttons().find((b) => b.textContent === 'Reject');
      new MutationObserver(() => window.reportProgress({
        pay: pay.textContent, payDisabled: pay.disabled, rejectDisabled: reject.disabled,
        status: document.getElementById('progress')?.textContent ?? '',
      })).observe(document.querySelector('main'), { subtree: true, attributes: true, childList: true, characterData: true });
    })()`);
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment approved');
    await shot;
    assert.ok(progress.some((p) => p.pay === 'Processing…' && p.payDisabled && p.rejectDisabled && p.status === 'Processing…'),
      `"Pay" showed progress while makePayment was in flight: ${JSON.stringify(progress)}`);
    const result = await mainText(page);
    assert.ok(result.includes('Paid'), result);
    assert.ok(result.includes('Paid with Visa •••• 0010'), result);
    assert.ok(result.includes(`Transaction ID ${p.id}`), result);
    await screenshot(page, 'flow-7-app-approved');

    const calls = stub.callsFor(p.id);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.authorization, 'WCAG6W5HYWGg4');
    assert.equal(calls[0].body.paymentState, 'ACCEPTED');
    assert.equal(calls[0].body.networkToken.tokenType, 'VISA');
    assert.equal(calls[0].body.networkToken.number, '4895370013193500');
    const d = await details(server.url, h, p.id);
    assert.deepEqual(d.body.transactionLogHistory.map((e: any) => [e.operation, e.amount, e.operationSuccess]), [['RESERVED', 49900, true]]);
    assert.equal(d.body.transactionSummary.remainingAmountToCapture, 49900);

    // The receipts: this payment first.
    await page.getByRole('link', { name: 'Receipts' }).first().click();
    await heading(page, 'Receipts');
    const first = plain(await page.getByRole('list', { name: 'Receipts' }).getByRole('link').first().innerText());
    assert.ok(first.includes('Acme Shop') && first.includes(p.text) && first.includes('499,00 kr') && first.includes('Paid'), first);
    await screenshot(page, 'flow-8-app-receipts');
    await page.getByRole('list', { name: 'Receipts' }).getByRole('link').first().click();
    await heading(page, 'Payment approved');

    // Back to the store: the pspRedirectUrl.
    const store = page.getByRole('link', { name: 'Back to the store' });
    assert.equal(await store.getAttribute('href'), p.body.pspRedirectUrl);
    await store.click();
    await page.getByRole('heading', { name: 'Thank you for shopping with us' }).waitFor();
    assert.equal(page.url(), p.body.pspRedirectUrl);
    assert.equal(stub.storeVisits.at(-1), new URL(p.body.pspRedirectUrl as string).pathname + new URL(p.body.pspRedirectUrl as string).search);

    // The used link: a clear page, not the form again.
    const again = await page.goto(p.url);
    assert.equal(again?.status(), 410);
    await heading(page, 'Payment approved');
    assert.match(await mainText(page), /already been used/);
    await screenshot(page, 'flow-9-landing-used');

    assert.deepEqual(problems, []);
    await context.close();
  });

  it('Reject → USER_CANCEL, and the PSP gets a USER_CANCEL makePayment', async () => {
    const p = await newPayment();
    const { page } = await openInApp(p);
    await page.getByRole('button', { name: 'Reject' }).click();
    await heading(page, 'Payment rejected');
    assert.match(await mainText(page), /Nothing was paid/);
    await screenshot(page, 'reject-1-rejected');
    assert.equal((await adminPayment(server.url, p.id)).state, 'USER_CANCEL');
    const [cancel] = await stub.waitForCalls(p.id, 1);
    assert.equal(cancel.body.paymentState, 'USER_CANCEL');
    assert.equal(cancel.body.networkToken, undefined);
    assert.equal(await page.getByRole('link', { name: 'Back to the store' }).getAttribute('href'), p.body.pspRedirectUrl);
    noProblems();
  });

  it('SOFT_DECLINE → the PSP\'s 3-D Secure page inside the app → operations URL → second makePayment OK → approved', async () => {
    const p = await newPayment();
    stub.on(p.id, { kind: 'soft-decline', url3dSecure: stub.threeDsPageFor(p.id), then: { kind: 'ok' } });
    const { page } = await openInApp(p);
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Verify the payment');
    const frame = page.frameLocator('iframe[title="3-D Secure verification"]');
    await frame.getByRole('heading', { name: 'Bank 3-D Secure' }).waitFor();
    assert.equal((await adminPayment(server.url, p.id)).state, 'AWAITING_3DS');
    await screenshot(page, '3ds-1-bank-page-in-app');

    await frame.getByRole('link', { name: 'Authenticate' }).click();
    // The app continues by itself once the operations URL was reached and the second round decided.
    await heading(page, 'Payment approved');
    await screenshot(page, '3ds-2-approved');
    const accepted = stub.callsFor(p.id).filter((c) => c.body.paymentState === 'ACCEPTED');
    assert.equal(accepted.length, 2, 'makePayment was sent again after 3-D Secure');
    assert.equal((await adminPayment(server.url, p.id)).state, 'RESERVED');

    // The operations URL's own page shows the result and leads back into the app.
    const success = accepted[0].body.operations.find((o: any) => o.operation === '3dssuccess').url as string;
    await page.goto(success);
    assert.match(await mainText(page), /The payment is approved/);
    await screenshot(page, '3ds-3-operations-url-page');
    await page.getByRole('link', { name: 'Back to the app' }).click();
    await heading(page, 'Payment approved');
    noProblems();
  });

  it('a state check answered while "Pay" is in flight does not reload the page over it', async () => {
    // The payment screen checks its state every second. A check sent just before "Pay" can be
    // answered after the payment moved on; the page must then wait for its own form's answer, not
    // reload: a reload would abandon the submission (and, on the 3-D Secure step, the bank's frame).
    const p = await newPayment();
    stub.on(p.id, { kind: 'slow', ms: 2000 });
    const context = await phoneContext(browser);
    await logIn(context);
    const opened = { context, ...(await openPage(context)) };
    const { page } = await openInApp(p, opened);
    const paymentPath = new URL(page.url()).pathname;
    // A check reaches the server only once the payment is DELIVERING (the PSP takes 2 s to answer
    // makePayment), so the one in flight at the click is answered while the form's answer is awaited.
    const answered: string[] = [];
    await page.route(`**${paymentPath}/state`, async (route) => {
      for (const until = Date.now() + 5000; Date.now() < until;) {
        if ((await adminPayment(server.url, p.id)).state === 'DELIVERING') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const response = await route.fetch();
      answered.push((await response.json()).v);
      await route.fulfill({ response }).catch(() => {});
    });
    const documents: string[] = [];
    page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) documents.push(`${r.method()} ${new URL(r.url()).pathname}`); });
    await page.waitForRequest((r) => r.url().endsWith(`${paymentPath}/state`));
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment approved');
    assert.equal(answered[0], 'DELIVERING', 'the check in flight was answered during the payment');
    assert.deepEqual(documents, [`POST ${paymentPath}/pay`, `GET ${paymentPath}`], 'the page was not reloaded while the form was submitted');
    assert.equal(stub.callsFor(p.id).length, 1);
    noProblems(opened);
    await context.close();
  });

  it('3-D Secure failed at the bank → the app shows the failure', async () => {
    const p = await newPayment();
    stub.on(p.id, { kind: 'soft-decline', url3dSecure: stub.threeDsPageFor(p.id) });
    const { page } = await openInApp(p);
    await page.getByRole('button', { name: 'Pay' }).click();
    await page.frameLocator('iframe[title="3-D Secure verification"]').getByRole('link', { name: 'Fail' }).click();
    await heading(page, 'Payment failed');
    assert.match(await mainText(page), /3-D Secure authentication failed/);
    await screenshot(page, '3ds-4-failed');
    assert.equal(stub.callsFor(p.id).length, 1, 'no second makePayment after a failed 3-D Secure');
    noProblems();
  });

  it('the PSP answers FAIL → the app shows the PSP\'s errorText', async () => {
    const p = await newPayment();
    stub.on(p.id, { kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' });
    const { page } = await openInApp(p);
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment failed');
    assert.match(await mainText(page), /The payment was declined: Refused by Issuer/);
    await screenshot(page, 'fail-1-declined');
    assert.equal((await adminPayment(server.url, p.id)).state, 'FAILED');
    noProblems();
  });

  it('amount 3100: card not eligible, no makePayment', async () => {
    const p = await newPayment({ amount: '3100' });
    const { page } = await openInApp(p);
    assert.ok((await mainText(page)).includes('31,00 kr'));
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Card not eligible');
    await screenshot(page, 'not-eligible-1');
    assert.equal(stub.callsFor(p.id).length, 0);
    const view = await adminPayment(server.url, p.id);
    assert.equal(view.state, 'FAILED');
    assert.equal(view.failureReason, 'CARD_NOT_ELIGIBLE');
    noProblems();
  });

  it('a user with two cards picks the Mastercard: its token is delivered', async () => {
    const user = '41234567';
    const created = await call(server.url, 'POST', '/admin/users', {
      headers: adminHeaders(), body: { phone: user, name: 'Kari Nordmann', cards: [{ brand: 'VISA' }, { brand: 'MASTERCARD' }] },
    });
    assert.equal(created.status, 201, created.text);
    const p = await newPayment({ customerMobileNumber: user, amount: '120000' });
    const context = await phoneContext(browser);
    await logIn(context, user);
    const kari = { context, ...(await openPage(context)) };
    const { page } = await openInApp(p, kari, user);
    assert.ok((await mainText(page)).includes('1 200,00 kr'));
    const group = page.getByRole('group', { name: 'Pay with' });
    assert.equal(await group.getByRole('radio').count(), 2);
    assert.equal(await group.getByRole('radio', { name: 'Visa •••• 0010' }).isChecked(), true, 'the first card is chosen by default');
    await group.getByRole('radio', { name: 'Mastercard •••• 0020' }).check();
    await screenshot(page, 'cards-1-choose-mastercard');
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment approved');
    const result = await mainText(page);
    assert.ok(result.includes('Paid with Mastercard •••• 0020'), result);
    assert.ok(result.includes('Paid by Kari Nordmann'), result);
    await screenshot(page, 'cards-2-approved');
    const [c] = stub.callsFor(p.id);
    assert.equal(c.body.networkToken.tokenType, 'MASTERCARD');
    assert.equal(c.body.networkToken.number, '5413330089010442');
    assert.equal(c.body.binNumber, '541333');
    noProblems(kari);
    await context.close();
  });

  it('isApp: the deeplink rewritten to /app/deeplink asks to log in, then opens the payment', async () => {
    const p = await newPayment({ isApp: true });
    assert.match(p.url, /^vippsMT:\/\/\?token=/);
    const deeplink = p.url.replace(/^vippsMT:\/\/\?/, `${base}/app/deeplink?`);
    const context = await phoneContext(browser);
    const { page, problems } = await openPage(context);
    await page.goto(deeplink);
    await heading(page, 'Log in to Vipps');
    assert.match(await mainText(page), /Log in to pay 499,00 kr to Acme Shop/);
    assert.equal((await adminPayment(server.url, p.id)).state, 'INITIATED', 'nothing happens before a user is there');
    await screenshot(page, 'deeplink-1-login');
    await page.getByLabel('Phone number').fill(DEMO.userPhone);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading(page, 'Acme Shop');
    const view = await adminPayment(server.url, p.id);
    assert.equal(view.state, 'AWAITING_USER');
    assert.equal(view.phone, DEMO.userPhone);
    await screenshot(page, 'deeplink-2-payment');
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment approved');
    assert.equal((await adminPayment(server.url, p.id)).state, 'RESERVED');

    // Opened again by the same user: the payment's result; unknown token: a clear 404.
    await page.goto(deeplink);
    await heading(page, 'Payment approved');
    const unknown = await page.goto(`${base}/app/deeplink?token=not-a-token`);
    assert.equal(unknown?.status(), 404);
    await heading(page, 'Payment link not found');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('skipLandingPage: the request is pushed into the open app, which shows it by itself; no way back to a store', async () => {
    const patched = await call(server.url, 'PATCH', `/admin/merchants/${DEMO.secondMsn}`, { headers: adminHeaders(), body: { skipLandingPage: true } });
    assert.equal(patched.status, 200, patched.text);
    const { page } = demo;
    await page.goto(`${base}/app`);
    await heading(page, 'Payment requests');

    const h2 = await pspHeaders(server.url, DEMO_CLIENT, DEMO.secondMsn);
    const p = await newPayment({ skipLandingPage: true }, h2);
    const request = page.getByRole('link', { name: new RegExp(p.text) });
    await request.waitFor({ timeout: 5000 });
    assert.ok(plain(await request.innerText()).includes('Vipps Merch Shop'));
    await screenshot(page, 'push-1-request-appears');
    await request.click();
    await heading(page, 'Vipps Merch Shop');
    await page.getByRole('button', { name: 'Pay' }).click();
    await heading(page, 'Payment approved');
    assert.equal(await page.getByRole('link', { name: 'Back to the store' }).count(), 0);
    await screenshot(page, 'push-2-approved');
    assert.equal((await adminPayment(server.url, p.id)).state, 'RESERVED');
    noProblems();
  });

  it('the landing page works without JavaScript, with an inline error for an unknown number', async () => {
    const p = await newPayment({ customerMobileNumber: undefined });
    const context = await phoneContext(browser, { javaScriptEnabled: false });
    const { page } = await openPage(context);
    await page.goto(p.url);
    await heading(page, 'Pay');
    assert.equal(await page.getByLabel('Phone number').inputValue(), '', 'nothing to pre-fill');
    await page.getByLabel('Phone number').fill('11111111');
    await page.getByRole('button', { name: 'Next' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    assert.match(plain(await error.innerText()), /No Vipps user has the number 11111111/);
    assert.equal(await page.getByLabel('Phone number').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Phone number').inputValue(), '11111111', 'the entered number is kept');
    assert.equal((await adminPayment(server.url, p.id)).state, 'INITIATED');
    await screenshot(page, 'nojs-1-unknown-number');

    await page.getByLabel('Phone number').fill('+47 929 29 292');
    await page.getByRole('button', { name: 'Next' }).click();
    await heading(page, 'Complete in Vipps');
    await screenshot(page, 'nojs-2-complete-in-vipps');
    const view = await adminPayment(server.url, p.id);
    assert.equal(view.state, 'AWAITING_USER');
    assert.equal(view.phone, DEMO.userPhone);
    await context.close();
  });

  it('landing links that are unknown give a clear page; Cancel on the landing page rejects', async () => {
    const { page } = demo;
    const unknown = await page.goto(`${base}/landing?token=not-a-real-token`);
    assert.equal(unknown?.status(), 404);
    await heading(page, 'Payment link not found');
    await screenshot(page, 'landing-unknown');
    const missing = await page.goto(`${base}/landing`);
    assert.equal(missing?.status(), 404);

    const p = await newPayment();
    await page.goto(p.url);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await heading(page, 'Payment rejected');
    assert.equal((await adminPayment(server.url, p.id)).state, 'USER_CANCEL');
    assert.equal(await page.getByRole('link', { name: 'Back to the store' }).getAttribute('href'), p.body.pspRedirectUrl);
    await screenshot(page, 'landing-cancelled');
    noProblems();
  });

  it('the front door: loads without a CSP violation or script error, Copy copies the curl, a link leads on', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const { page, problems } = await openPage(context);
    const answer = await page.goto(`${base}/`);
    assert.equal(answer?.status(), 200);
    assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await heading(page, 'vipps-psp');
    assert.match(await mainText(page), /test environment/);
    const curl = await page.locator('#token-curl').innerText();
    assert.ok(curl.startsWith(`curl -X POST ${base}/accessToken/get`), curl);
    // The button is there only with script (and a clipboard); it copies the command as shown.
    await page.getByRole('button', { name: 'Copy the command' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), curl);
    await screenshot(page, 'front-door');
    await page.getByRole('link', { name: /App simulator/ }).click();
    await heading(page, 'Log in to Vipps');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('POSTs without the CSRF token (or with a wrong one, or from another origin) are refused with 403', async () => {
    const p = await newPayment();
    const { context } = demo;
    const csrf = await csrfOf(context, new URL(p.url).pathname + new URL(p.url).search);

    const refused = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
      const answer = await context.request.post(`${base}${path}`, { form, headers, maxRedirects: 0 });
      assert.equal(answer.status(), 403, `${path} ${JSON.stringify(form)}`);
      assert.match(await answer.text(), /Request refused/);
      assert.match(answer.headers()['content-type'] ?? '', /text\/html/);
    };
    // A form whose token went stale in the browser: the refusal is a page, not a crash.
    await demo.page.goto(p.url);
    await demo.page.evaluate(`document.querySelector('input[name="_csrf"]').value = 'stale'`);
    const [stale] = await Promise.all([
      demo.page.waitForResponse((r) => r.request().method() === 'POST'),
      demo.page.getByRole('button', { name: 'Next' }).click(),
    ]);
    assert.equal(stale.status(), 403);
    await heading(demo.page, 'Request refused');
    await screenshot(demo.page, 'csrf-refused');

    await refused('/landing', { token: p.token, phone: DEMO.userPhone });
    await refused('/landing', { token: p.token, phone: DEMO.userPhone, _csrf: 'forged' });
    await refused('/landing', { token: p.token, phone: DEMO.userPhone, _csrf: csrf }, { origin: 'https://evil.example' });
    await refused('/landing/cancel', { token: p.token });
    await refused('/app/login', { phone: DEMO.userPhone });
    assert.equal((await adminPayment(server.url, p.id)).state, 'INITIATED', 'nothing happened');

    // With the page's token the same POST is accepted.
    const accepted = await context.request.post(`${base}/landing`, { form: { token: p.token, phone: DEMO.userPhone, _csrf: csrf }, maxRedirects: 0 });
    assert.equal(accepted.status(), 303);
    assert.equal((await adminPayment(server.url, p.id)).state, 'AWAITING_USER');

    // Logged in, paying without the token is refused too.
    const login = await context.request.post(`${base}/app/login`, { form: { phone: DEMO.userPhone, _csrf: csrf }, maxRedirects: 0 });
    assert.equal(login.status(), 303);
    const paymentId = (await adminPayment(server.url, p.id)).paymentId as string;
    await refused(`/app/payments/${paymentId}/pay`, {});
    await refused(`/app/payments/${paymentId}/reject`, { _csrf: 'forged' });
    assert.equal((await adminPayment(server.url, p.id)).state, 'AWAITING_USER');
    assert.equal(stub.callsFor(p.id).length, 0);
    await context.request.post(`${base}/app/payments/${paymentId}/reject`, { form: { _csrf: csrf }, maxRedirects: 0 });
  });
});
