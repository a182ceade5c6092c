// The user's side of an ePayment (card passthrough) payment in real Chromium: the landing page of its
// redirectUrl, the app simulator with the cards allowedCardTypes permits, the card callback answered by
// a PSP stub that checks every signature, 3-D Secure on the PSP's page after a soft decline, and the
// way back to returnUrl. Also a declined card and a retry with another one, and a rejection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { launchChromium, phoneContext, plain, screenshot, skipWithoutChromium } from '../support/browser.ts';

describe('ePayment payments in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let browser: Browser;
  let h: Record<string, string>;
  let base: string;

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
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

  async function create(overrides: Record<string, unknown> = {}, cardPassthrough: Record<string, unknown> = {}) {
    const reference = `web-${randomUUID().slice(0, 18)}`;
    const description = `Socks ${reference.slice(-6)}`;
    const answer = await call(server.url, 'POST', '/epayment/v1/payments', {
      headers: { ...h, 'idempotency-key': reference },
      body: {
        amount: { currency: 'NOK', value: 49900 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
        returnUrl: `${stub.storeUrl}/return?order=${reference}`, paymentDescription: description,
        cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'], ...cardPassthrough },
        ...overrides,
      },
    });
    assert.equal(answer.status, 201, answer.text);
    return { reference, description, url: answer.body.redirectUrl as string, pspReference: `psp-${reference}` };
  }

  async function open(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    return { context, page, problems };
  }

  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();
  const mainText = async (page: Page) => plain(await page.locator('main').innerText());
  const state = async (reference: string) => (await call(server.url, 'GET', `/epayment/v1/payments/${reference}`, { headers: h })).body.state;

  /** Landing page → phone → the app → log in → the request. */
  async function toPaymentScreen(page: Page, p: { url: string; description: string }, phone = DEMO.userPhone) {
    await page.goto(p.url);
    await heading(page, 'Pay');
    assert.ok((await mainText(page)).includes('499,00 kr to Acme Shop'));
    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Next' }).click();
    await heading(page, 'Complete in Vipps');
    await page.getByRole('link', { name: 'Open the Vipps app simulator' }).click();
    await page.getByRole('heading', { level: 1, name: /Log in to Vipps|Payment requests/ }).waitFor();
    if (await page.getByRole('button', { name: 'Log in' }).count() > 0) await page.getByRole('button', { name: 'Log in' }).click();
    await heading(page, 'Payment requests');
    await page.getByRole('link', { name: new RegExp(p.description) }).click();
    await page.getByRole('button', { name: 'Pay' }).waitFor();
  }

  it('a person pays with a chosen card, goes through 3-D Secure after a soft decline and ends on returnUrl', async () => {
    const added = await call(server.url, 'POST', `/admin/users/${DEMO.userPhone}/cards`, { headers: adminHeaders(), body: { brand: 'MASTERCARD', last4: '5454' } });
    assert.equal(added.status, 201, added.text);
    const p = await create();
    stub.on(p.pspReference, { kind: 'sequence', steps: [{ kind: 'soft-decline' }, { kind: 'reserve', networkTransactionReference: 'ntr-web' }] });
    const { context, page, problems } = await open();
    try {
      await toPaymentScreen(page, p);
      assert.ok((await mainText(page)).includes(p.description));
      await screenshot(page, 'epayment-1-payment-screen');
      // The user picks the Mastercard.
      await page.getByRole('radio', { name: /5454/ }).check();
      await page.getByRole('button', { name: 'Pay' }).click();
      // The PSP soft-declined: the app sends the person to its 3-D Secure page.
      await heading(page, 'Verify with your bank');
      await page.getByRole('link', { name: 'Verify with your bank' }).click();
      await heading(page, 'Bank 3-D Secure');
      assert.equal(await state(p.reference), 'CREATED');
      await page.getByRole('link', { name: 'Complete' }).click();
      await heading(page, 'Payment approved');
      await screenshot(page, 'epayment-2-approved');
      const calls = stub.callsFor(p.pspReference);
      assert.equal(calls.length, 2);
      for (const c of calls) {
        assert.equal(c.signatureProblem, undefined);
        assert.equal(c.body.cardInfo.cardType, 'MC-DEBIT', 'the chosen card');
        assert.ok(c.body.cardInfo.maskedCardNumber.endsWith('5454'));
      }
      assert.equal(calls[1].body.authorizationAttemptId, calls[0].body.authorizationAttemptId);
      assert.equal(await state(p.reference), 'AUTHORIZED');
      await page.getByRole('link', { name: 'Back to the store' }).click();
      await heading(page, 'Thank you for shopping with us');
      assert.ok(stub.storeVisits.includes(`/store/return?order=${p.reference}`));
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('a declined card: the person is told and pays with another card; a rejection aborts the payment', async () => {
    const p = await create();
    stub.on(p.pspReference, { kind: 'sequence', steps: [{ kind: 'fail', errorCode: 300, errorMessage: 'Refused by Issuer' }, { kind: 'reserve' }] });
    const { context, page, problems } = await open();
    try {
      await toPaymentScreen(page, p);
      await page.getByRole('button', { name: 'Pay' }).click();
      await page.getByRole('alert').filter({ hasText: 'Refused by Issuer' }).waitFor();
      assert.equal(await state(p.reference), 'CREATED');
      await page.getByRole('radio', { name: /5454/ }).check();
      await page.getByRole('button', { name: 'Pay' }).click();
      await heading(page, 'Payment approved');
      const calls = stub.callsFor(p.pspReference);
      assert.equal(calls.length, 2);
      assert.notEqual(calls[1].body.authorizationAttemptId, calls[0].body.authorizationAttemptId);
      assert.equal(calls[1].body.cardInfo.cardType, 'MC-DEBIT');

      const rejected = await create();
      await toPaymentScreen(page, rejected);
      await page.getByRole('button', { name: 'Reject' }).click();
      await heading(page, 'Payment rejected');
      assert.equal(await state(rejected.reference), 'ABORTED');
      const events = await call(server.url, 'GET', `/epayment/v1/payments/${rejected.reference}/events`, { headers: h });
      assert.deepEqual(events.body.map((e: { name: string }) => e.name), ['CREATED', 'ABORTED']);
      assert.equal(stub.callsFor(rejected.pspReference).length, 0);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('a PUSH_MESSAGE payment waits in the app, and a NATIVE_REDIRECT deeplink opens its payment there', async () => {
    const pushed = await create({ userFlow: 'PUSH_MESSAGE', returnUrl: undefined, customer: { phoneNumber: `47${DEMO.userPhone}` } });
    const native = await create({ userFlow: 'NATIVE_REDIRECT', returnUrl: undefined });
    assert.match(native.url, /^vippsMT:\/\/\?token=/);
    const { context, page } = await open();
    try {
      await page.goto(`${base}/app`);
      await page.getByLabel('Phone number').fill(DEMO.userPhone);
      await page.getByRole('button', { name: 'Log in' }).click();
      await heading(page, 'Payment requests');
      await page.getByRole('link', { name: new RegExp(pushed.description) }).click();
      await page.getByRole('button', { name: 'Pay' }).click();
      await heading(page, 'Payment approved');
      assert.equal(await state(pushed.reference), 'AUTHORIZED');

      // The app's deeplink (the vippsMT:// URL, as the app simulator takes it).
      const token = decodeURIComponent(native.url.slice('vippsMT://?token='.length));
      await page.goto(`${base}/app/deeplink?token=${encodeURIComponent(token)}`);
      await page.getByRole('button', { name: 'Pay' }).click();
      await heading(page, 'Payment approved');
      assert.equal(await state(native.reference), 'AUTHORIZED');
    } finally {
      await context.close();
    }
  });

  it('a MobilePay-branded DKK payment, paid with the Dankort side of a Visa/Dankort card', async () => {
    const user = await call(server.url, 'POST', '/admin/users', {
      headers: adminHeaders(), body: { phone: '40404040', name: 'Mette Hansen', cards: [{ brand: 'VISA_DANKORT', last4: '4571' }, { brand: 'DANKORT' }] },
    });
    assert.equal(user.status, 201, user.text);
    const p = await create({ amount: { currency: 'DKK', value: 12500 } }, { allowedCardTypes: ['DANKORT'] });
    const { context, page, problems } = await open();
    try {
      await page.goto(p.url);
      await heading(page, 'Pay');
      assert.equal(plain(await page.locator('.logo').innerText()), 'MobilePay');
      assert.ok((await mainText(page)).includes('125,00 kr to Acme Shop'));
      await page.getByLabel('Phone number').fill('40404040');
      await page.getByRole('button', { name: 'Next' }).click();
      await heading(page, 'Complete in MobilePay');
      await page.getByRole('link', { name: 'Open the MobilePay app simulator' }).click();
      await page.getByRole('button', { name: 'Log in' }).click();
      await heading(page, 'Payment requests');
      await page.getByRole('link', { name: new RegExp(p.description) }).click();
      await page.getByRole('button', { name: 'Pay' }).waitFor();
      assert.equal(plain(await page.locator('.logo').innerText()), 'MobilePay');
      const text = await mainText(page);
      // The standalone Dankort has no network token (it would need encryptedPan): only the co-brand is offered.
      assert.match(text, /Pay with Visa\/Dankort •••• 4571 · as Dankort/);
      await screenshot(page, 'epayment-3-mobilepay-dankort');
      await page.getByRole('button', { name: 'Pay' }).click();
      await heading(page, 'Payment approved');
      const call0 = stub.callsFor(p.pspReference)[0];
      assert.equal(call0.signatureProblem, undefined);
      assert.equal(call0.body.cardInfo.cardType, 'DANKORT');
      assert.equal(call0.body.cardInfo.cardIssuedInCountryCode, 'DK');
      assert.deepEqual(call0.body.amount, { currency: 'DKK', value: 12500 });
      assert.equal(await state(p.reference), 'AUTHORIZED');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  it('a payment whose callback failed for good tells the person to check with the store', async () => {
    const p = await create();
    stub.on(p.pspReference, { kind: 'status', status: 500 });
    const { context, page } = await open();
    try {
      await toPaymentScreen(page, p);
      await page.getByRole('button', { name: 'Pay' }).click();
      await heading(page, 'Payment not completed');
      assert.match(await mainText(page), /Check the status of the payment with the store you came from/);
      assert.equal(await state(p.reference), 'CREATED');
    } finally {
      await context.close();
    }
  });
});
