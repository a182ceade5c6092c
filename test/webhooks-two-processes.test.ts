// Webhook deliveries across two server processes on one PostgreSQL, one of them killed (SIGKILL) with
// deliveries in flight: every event still reaches the receiver, and none that the receiver answered
// is sent again. The receiver holds every request until the kill, so no answer can reach the killed
// process: what it had in flight is cut off, and the other process sends it once the lease has run out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { call, DEMO, pspHeaders } from './support/server.ts';

const pg = process.env.DATABASE_URL ? describe : describe.skip;

pg('webhook deliveries across two processes on one PostgreSQL, one killed mid-send', () => {
  let storage: Storage;
  let a: Child;
  let b: Child;
  let receiver: http.Server;
  let url = '';
  let holding = true;
  const held: Array<{ res: http.ServerResponse; reference: string }> = [];
  /** Per reference: the deliveries answered 200, and those cut off before an answer. */
  const answered = new Map<string, number>();
  const cutOff = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  const answer = (res: http.ServerResponse, reference: string) => {
    res.on('finish', () => bump(answered, reference));
    res.writeHead(200).end();
  };

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reference = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reference: string }).reference;
        res.on('close', () => { if (!res.writableFinished) bump(cutOff, reference); });
        if (holding) held.push({ res, reference });
        else answer(res, reference);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    storage = await persistentStorage();
    const shared = { ...storage.env, PUBLIC_URL: 'http://vipps-psp.test' };
    a = await startChild(shared);
    b = await startChild(shared);
  });
  after(async () => {
    for (const child of [a, b]) {
      if (child && child.process.exitCode === null && child.process.signalCode === null) {
        child.kill('SIGTERM');
        await child.exited;
      }
    }
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await storage?.drop();
  });

  it('delivers every event after the kill, and never again one the receiver answered', { timeout: 90_000 }, async () => {
    const h = await pspHeaders(a.url);
    const registered = await call(a.url, 'POST', '/webhooks/v1/webhooks', { headers: h, body: { url, events: ['epayments.payment.created.v1'] } });
    assert.equal(registered.status, 201, registered.text);
    const refs: string[] = [];
    for (let i = 0; i < 30; i++) {
      const reference = `kill-${randomUUID().slice(0, 18)}`;
      refs.push(reference);
      const created = await call(a.url, 'POST', '/epayment/v1/payments', {
        headers: { ...h, 'idempotency-key': reference },
        body: {
          amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
          returnUrl: 'https://shop.example/r', cardPassthrough: { pspReference: reference, cardCallbackUrl: 'http://127.0.0.1:9/cb', allowedCardTypes: ['VISA_DEBIT'] },
        },
      });
      assert.equal(created.status, 201, created.text);
    }
    // Deliveries go out (from either process) and wait at the receiver; then A dies with its in flight.
    for (let i = 0; i < 100 && held.length < 10; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(held.length >= 10, `deliveries in flight: ${held.length}`);
    a.kill('SIGKILL');
    await a.exited;
    await new Promise((r) => setTimeout(r, 200));
    holding = false;
    for (const { res, reference } of held.splice(0)) if (!res.destroyed) answer(res, reference);

    // B sends the rest, and what A had in flight once its lease (10 s + 5 s, wall clock) has run out.
    const deadline = Date.now() + 60_000;
    while (refs.some((r) => !answered.has(r)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const missing = refs.filter((r) => !answered.has(r));
    assert.deepEqual(missing, [], 'nothing lost');
    await new Promise((r) => setTimeout(r, 1000));
    const doubled = refs.filter((r) => (answered.get(r) ?? 0) > 1);
    assert.deepEqual(doubled, [], 'none answered twice');
    assert.ok([...cutOff.values()].reduce((s, n) => s + n, 0) > 0, 'the kill cut deliveries off in flight');
  });
});
