// Expiry as the user sees it, in real Chromium, on a server with very short deadlines: a landing page
// left open expires by itself, a late "Next" without JavaScript gets the expired page, the app's
// payment screen turns into "expired", and a late deeplink is refused. The PSP gets one TIMEOUT each.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext } from 'playwright-core';
import { DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, initBody, initOk, uniqueId } from '../support/payments.ts';
import { launchChromium, phoneContext, plain, screenshot, skipWithoutChromium } from '../support/browser.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('expiry shown to the user, in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let stub: PspStub;
  let browser: Browser;
  let h: Record<string, string>;
  let base: string;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ LANDING_TIMEOUT_SECONDS: '1', APP_TIMEOUT_SECONDS: '2', SWEEP_INTERVAL_MS: '100' });
    base = server.services.config.publicUrl;
    h = await pspHeaders(server.url);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await stub?.close();
  });

  async function newPayment(overrides: Record<string, unknown> = {}) {
    const body = initBody(stub.url, { paymentText: `Socks ${uniqueId('')}`, ...overrides });
    return { ...(await initOk(server.url, h, body)), text: body.paymentText as string };
  }

  async function csrfOf(context: BrowserContext, path: string): Promise<string> {
    const m = /name="_csrf" value="([^"]+)"/.exec(await (await context.request.get(`${base}${path}`)).text());
    assert.ok(m);
    return m[1];
  }

  async function timeoutNotified(id: string): Promise<void> {
    const [c] = await stub.waitForCalls(id, 1, 5000);
    assert.equal(c.body.paymentState, 'TIMEOUT');
    assert.equal(c.body.networkToken, undefined);
  }

  it('a landing page left open turns into "expired" by itself', async () => {
    const p = await newPayment();
    const context = await phoneContext(browser);
    const page = await context.newPage();
    await page.goto(p.url);
    await page.getByRole('heading', { level: 1, name: 'Pay' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'This payment link has expired' }).waitFor({ timeout: 6000 });
    assert.match(plain(await page.locator('main').innerText()), /nothing was paid/);
    await screenshot(page, 'expiry-1-landing-expired');
    const reload = await page.reload();
    assert.equal(reload?.status(), 410);
    await timeoutNotified(p.id);
    assert.equal((await adminPayment(server.url, p.id)).state, 'TIMEOUT');
    await context.close();
  });

  it('"Next" after the landing deadline, without JavaScript: the expired page (410)', async () => {
    const p = await newPayment();
    const context = await phoneContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(p.url);
    await sleep(1300);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { level: 1, name: 'This payment link has expired' }).waitFor();
    await screenshot(page, 'expiry-2-next-too-late');
    await timeoutNotified(p.id);
    await context.close();
  });

  it('the app\'s payment screen turns into "expired" when the app deadline passes', async () => {
    const p = await newPayment();
    const context = await phoneContext(browser);
    const login = await context.request.post(`${base}/app/login`, { form: { phone: DEMO.userPhone, _csrf: await csrfOf(context, '/app') }, maxRedirects: 0 });
    assert.equal(login.status(), 303);
    const landing = `/landing?token=${encodeURIComponent(p.token)}`;
    const passed = await context.request.post(`${base}/landing`, { form: { token: p.token, phone: DEMO.userPhone, _csrf: await csrfOf(context, landing) }, maxRedirects: 0 });
    assert.equal(passed.status(), 303);
    const paymentId = (await adminPayment(server.url, p.id)).paymentId as string;

    const page = await context.newPage();
    await page.goto(`${base}/app/payments/${paymentId}`);
    await page.getByRole('button', { name: 'Pay' }).waitFor();
    await screenshot(page, 'expiry-3-app-payment');
    await page.getByRole('heading', { level: 1, name: 'Payment request expired' }).waitFor({ timeout: 6000 });
    assert.match(plain(await page.locator('main').innerText()), /The time to approve the payment ran out/);
    assert.equal(await page.getByRole('button', { name: 'Pay' }).count(), 0);
    await screenshot(page, 'expiry-4-app-expired');
    await timeoutNotified(p.id);

    // The receipts list it as expired.
    await page.goto(`${base}/app/receipts`);
    const first = plain(await page.getByRole('list', { name: 'Receipts' }).getByRole('link').first().innerText());
    assert.ok(first.includes(p.text) && first.includes('Expired'), first);
    await context.close();
  });

  it('a deeplink opened after its deadline: a clear "expired" page', async () => {
    const p = await newPayment({ isApp: true });
    const context = await phoneContext(browser);
    const login = await context.request.post(`${base}/app/login`, { form: { phone: DEMO.userPhone, _csrf: await csrfOf(context, '/app') }, maxRedirects: 0 });
    assert.equal(login.status(), 303);
    await sleep(1300);
    const page = await context.newPage();
    const answer = await page.goto(p.url.replace(/^vippsMT:\/\/\?/, `${base}/app/deeplink?`));
    assert.equal(answer?.status(), 410);
    await page.getByRole('heading', { level: 1, name: 'Payment link expired' }).waitFor();
    await screenshot(page, 'expiry-5-deeplink-expired');
    await timeoutNotified(p.id);
    await context.close();
  });
});
