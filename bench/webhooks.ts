// npm run bench:webhooks — webhook deliveries to loopback receivers: how many per second the server
// sends while ePayment payments are created, and the time from each event to its arrival (p50, p99);
// then the same again with one more registration whose receiver never answers, to show how much a
// dead receiver delays the others. On PostgreSQL when DATABASE_URL is set, else on the embedded
// database.
//   BENCH_SECONDS (10) per phase, BENCH_RATE (500) payments created per second (each event goes to
//   every registration: BENCH_RECEIVERS (4) live ones, so 2,000 deliveries/s), BENCH_CONNECTIONS (50),
//   BENCH_WARMUP (3) seconds of the same load first, not counted (a fresh process compiles its code
//   and a fresh database plans its statements)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { pspHeaders, startBenchServer } from './common.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const receiversWanted = Number(process.env.BENCH_RECEIVERS ?? 4);
const rate = Number(process.env.BENCH_RATE ?? 500);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);

interface Receiver { url: string; latencies: number[]; count: number; close(): Promise<void> }

/** A receiver that answers 204 at once (or never, `dead`), recording each delivery's age on arrival. */
async function receiver(dead = false): Promise<Receiver> {
  const r: Receiver = { url: '', latencies: [], count: 0, close: async () => {} };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (dead) { hanging.add(res); return; }
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
        r.latencies.push(Date.now() - Date.parse(event.timestamp));
        r.count++;
      } catch { /* counted as nothing */ }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r;
}

const pct = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
};

const server = await startBenchServer();
const receivers: Receiver[] = [];
let dead: Receiver | undefined;
const agent = new Agent({ connections: connections * 2 });
try {
  const headers = { ...(await pspHeaders(server.url)), 'content-type': 'application/json' };
  const register = async (url: string) => {
    const answer = await request(`${server.url}/webhooks/v1/webhooks`, {
      method: 'POST', headers, body: JSON.stringify({ url, events: ['epayments.payment.created.v1'] }), dispatcher: agent,
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 201) throw new Error(`register: ${answer.statusCode} ${text}`);
  };
  for (let i = 0; i < receiversWanted; i++) {
    const r = await receiver();
    receivers.push(r);
    await register(r.url);
  }
  process.stdout.write(`bench:webhooks on ${server.backend}, ${rate} payments created per second, ${receiversWanted} live registrations, ${seconds} s per phase\n`);

  const phase = async (label: string, seconds: number) => {
    for (const r of receivers) { r.latencies = []; r.count = 0; }
    const prefix = `w${randomBytes(3).toString('hex')}`;
    let n = 0;
    let created = 0;
    const createMs: number[] = [];
    const started = Date.now();
    const end = started + seconds * 1000;
    // Paced: create number k goes at started + k / rate (a client that falls behind catches up).
    await Promise.all(Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const k = ++n;
        const due = started + (k * 1000) / rate;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        if (Date.now() >= end) break;
        const reference = `${prefix}-${k}`;
        const sent = Date.now();
        const answer = await request(`${server.url}/epayment/v1/payments`, {
          method: 'POST', dispatcher: agent, headers: { ...headers, 'idempotency-key': reference },
          body: JSON.stringify({
            amount: { currency: 'NOK', value: 10000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
            returnUrl: 'https://shop.example/r', cardPassthrough: { pspReference: reference, cardCallbackUrl: 'http://127.0.0.1:9/cb', allowedCardTypes: ['VISA_DEBIT'] },
          }),
        });
        await answer.body.dump();
        if (answer.statusCode === 201) { created++; createMs.push(Date.now() - sent); }
      }
    }));
    // What was created in the window is delivered: wait for the stragglers (at most 30 s).
    const expected = created * receiversWanted;
    const deadline = Date.now() + 30_000;
    while (receivers.reduce((s, r) => s + r.count, 0) < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const delivered = receivers.reduce((s, r) => s + r.count, 0);
    const all = receivers.flatMap((r) => r.latencies);
    const stats = { created, delivered, perSecond: Math.round(delivered / seconds), p50: pct(all, 0.5), p99: pct(all, 0.99), createP99: pct(createMs, 0.99) };
    process.stdout.write(`  ${label}: ${stats.created} payments created, ${stats.delivered} of ${expected} deliveries (${stats.perSecond}/s over the window), event to arrival p50 ${stats.p50} ms, p99 ${stats.p99} ms (the create itself: p99 ${stats.createP99} ms)\n`);
    return stats;
  };

  if (warmup > 0) await phase('warm-up (not counted)', warmup);
  const healthy = await phase('live receivers only', seconds);
  dead = await receiver(true);
  await register(dead.url);
  const withDead = await phase('with one more registration whose receiver never answers', seconds);

  const delay = withDead.p99 - healthy.p99;
  process.stdout.write(`\n${new Date().toISOString().slice(0, 10)}, ${server.backend}\n\n| webhooks | target | measured | |\n| --- | --- | --- | --- |\n`);
  process.stdout.write(`| deliveries | ≥ 2,000/s, p99 event → delivery ≤ 100 ms | ${healthy.perSecond}/s, p50 ${healthy.p50} ms, p99 ${healthy.p99} ms | ${healthy.perSecond >= 2000 && healthy.p99 <= 100 ? 'met' : '**missed**'} |\n`);
  process.stdout.write(`| a dead receiver's delay of the others (p99 with it − p99 without) | ≤ 200 ms | ${delay} ms (p99 ${withDead.p99} ms; ${withDead.perSecond}/s) | ${delay <= 200 ? 'met' : '**missed**'} |\n`);
} finally {
  await agent.close();
  await server.stop();
  for (const r of receivers) await r.close();
  await dead?.close();
}
