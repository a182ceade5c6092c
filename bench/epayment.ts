// npm run bench:epayment — the ePayment API for PSPs against Stoplight Prism serving the official
// ePayment document (1.4.1; its Receipt $ref pointed at the Order Management document beside it, not
// the network), and against the ceiling of the stack (a bare Fastify route), in one run: create, GET
// and the full flow (create → force approve → card callback RESERVE → AUTHORIZED → capture). On
// PostgreSQL when DATABASE_URL is set, else on the embedded database.
//   BENCH_SECONDS (10) per load, BENCH_CONNECTIONS (50), PRISM_VERSION (5.16.0)
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type autocannon from 'autocannon';
import { DEMO, ensureBenchDatabase, pspHeaders, startBenchServer, startCeiling, startOkPsp, startPrism } from './common.ts';
import { cannon, type LoadResult } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const prismVersion = process.env.PRISM_VERSION ?? '5.16.0';
const onPostgres = Boolean(process.env.DATABASE_URL);
if (onPostgres) await ensureBenchDatabase(process.env.DATABASE_URL!);

const fmt = (r: LoadResult) => `${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.bad ? `, ${r.bad} non-2xx` : ''}`;
const load = (opts: Omit<autocannon.Options, 'connections' | 'duration'>) => cannon({ connections, duration: seconds, ...opts });
const rows: Array<[string, string, string, boolean | undefined]> = [];
function report(label: string, target: string, measured: string, met: boolean | undefined): void {
  rows.push([label, target, measured, met]);
  process.stdout.write(`  ${label}: ${measured}${met === undefined ? '' : met ? '  (target met)' : '  (target missed)'}\n`);
}

function createBody(reference: string, callbackUrl: string): string {
  return JSON.stringify({
    amount: { currency: 'NOK', value: 49900 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return', paymentDescription: 'Benchmark',
    cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: callbackUrl, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'] },
  });
}

/** Creates with a new reference (and Idempotency-Key) per request; the references are `${prefix}-1` … */
function createRequests(url: string, headers: Record<string, string>, prefix: string, callbackUrl: string) {
  let n = 0;
  return {
    count: () => n,
    options: {
      url, method: 'POST' as const, headers,
      requests: [{
        setupRequest: (req: autocannon.Request) => {
          n += 1;
          const reference = `${prefix}-${n}`;
          return { ...req, headers: { ...req.headers, 'idempotency-key': reference }, body: createBody(reference, callbackUrl) };
        },
      }],
    },
  };
}

/** The official document, with its Receipt $ref pointed at the Order Management document copied beside it. */
function prismSpec(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-prism-epayment-'));
  const openapi = path.resolve(import.meta.dirname, '../openapi');
  copyFileSync(path.join(openapi, 'order-management-receipt.openapi.yaml'), path.join(dir, 'order-management-receipt.openapi.yaml'));
  const text = readFileSync(path.join(openapi, 'epayment.openapi.yaml'), 'utf8')
    .replace('https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml#', './order-management-receipt.openapi.yaml#');
  const file = path.join(dir, 'epayment.yaml');
  writeFileSync(file, text);
  return file;
}

process.stdout.write(`bench:epayment on ${onPostgres ? 'PostgreSQL' : 'the embedded database (PGlite)'}, ${connections} connections, ${seconds} s per load\n`);

// 1. Prism, alone on the machine.
const prism = await startPrism(prismSpec(), '/epayment/v1/payments/prism-reference-1', prismVersion);
let prismCreate: LoadResult;
let prismGet: LoadResult;
try {
  const headers = {
    authorization: 'Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.x', 'ocp-apim-subscription-key': DEMO.subscriptionKey,
    'merchant-serial-number': DEMO.msn, 'content-type': 'application/json', 'idempotency-key': 'prism-key',
  };
  const body = JSON.parse(createBody('prism-reference-1', 'https://psp.example.com/cb')) as Record<string, unknown>;
  // 1.4.1 knows neither CARD_PASSTHROUGH nor cardPassthrough: the same request as a WALLET payment.
  body.paymentMethod = { type: 'WALLET' };
  delete body.cardPassthrough;
  prismCreate = await load({ url: `${prism.url}/epayment/v1/payments`, method: 'POST', headers, body: JSON.stringify(body) });
  prismGet = await load({ url: `${prism.url}/epayment/v1/payments/prism-reference-1`, method: 'GET', headers });
  process.stdout.write(`  Prism create: ${fmt(prismCreate)}\n  Prism GET: ${fmt(prismGet)}\n`);
} finally {
  await prism.stop();
}

// 2. The ceiling.
const ceiling = await startCeiling();
let ceilingPost: LoadResult;
let ceilingGet: LoadResult;
try {
  const prefix = `b${randomBytes(3).toString('hex')}`;
  ceilingPost = await load(createRequests(`${ceiling.url}/v3/psppayments/init`, { 'content-type': 'application/json' }, prefix, 'https://psp.example.com/cb').options);
  ceilingGet = await load({ url: `${ceiling.url}/v3/psppayments/${prefix}-1/details`, method: 'GET' });
  report('ceiling: bare Fastify POST', 'the limit of the stack here', fmt(ceilingPost), undefined);
  report('ceiling: bare Fastify GET', 'the limit of the stack here', fmt(ceilingGet), undefined);
} finally {
  await ceiling.stop();
}
const share = (r: LoadResult, of: LoadResult) => Math.round((100 * r.rps) / Math.max(1, of.rps));

// 3. This server.
const psp = await startOkPsp();
const server = await startBenchServer();
try {
  const headers = { ...(await pspHeaders(server.url)), 'content-type': 'application/json' };
  const prefix = `e${randomBytes(3).toString('hex')}`;
  const creates = createRequests(`${server.url}/epayment/v1/payments`, headers, prefix, psp.url);
  const created = await load(creates.options);
  const createRatio = created.rps / prismCreate.rps;
  report('create', `≥ 8× Prism${onPostgres ? ', p99 ≤ 15 ms' : ''}`, `${createRatio.toFixed(1)}× Prism, ${share(created, ceilingPost)} % of the ceiling (${fmt(created)}; Prism ${prismCreate.rps} req/s)`,
    createRatio >= 8 && (!onPostgres || created.p99 <= 15) && created.bad === 0);
  let k = 0;
  const count = Math.min(creates.count(), 10_000);
  const got = await load({
    url: server.url, method: 'GET', headers,
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: `/epayment/v1/payments/${prefix}-${(k++ % count) + 1}` }) }],
  });
  const getRatio = got.rps / prismGet.rps;
  report('GET', `≥ 10× Prism${onPostgres ? ', p99 ≤ 15 ms' : ''}`, `${getRatio.toFixed(1)}× Prism, ${share(got, ceilingGet)} % of the ceiling (${fmt(got)}; Prism ${prismGet.rps} req/s)`,
    getRatio >= 10 && (!onPostgres || got.p99 <= 15) && got.bad === 0);

  // Full flows: create → force approve (the card callback, answered RESERVE) → capture.
  const agent = new Agent({ connections: connections * 2 });
  const flowPrefix = `f${randomBytes(3).toString('hex')}`;
  let n = 0;
  let done = 0;
  let failed = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const post = async (path: string, body: string, key?: string) => {
    const r = await request(`${server.url}${path}`, { method: 'POST', headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) }, body, dispatcher: agent });
    await r.body.dump();
    return r.statusCode;
  };
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < end) {
      const reference = `${flowPrefix}-${++n}`;
      const started = performance.now();
      if (await post('/epayment/v1/payments', createBody(reference, psp.url), reference) !== 201
        || await post(`/epayment/v1/test/payments/${reference}/approve`, JSON.stringify({ customer: { phoneNumber: '92929292' } })) !== 200
        || await post(`/epayment/v1/payments/${reference}/capture`, JSON.stringify({ modificationAmount: { currency: 'NOK', value: 49900 } }), `${reference}-c`) !== 200) {
        failed++;
        continue;
      }
      latencies.push(performance.now() - started);
      done++;
    }
  }));
  await agent.close();
  latencies.sort((a, b) => a - b);
  const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0);
  const perSecond = Math.round(done / seconds);
  const target = onPostgres ? 800 : 300;
  report(`full flow, ${connections} concurrent`, `≥ ${target} flows/s`, `${perSecond} flows/s, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms${failed ? `, ${failed} failed` : ''}`,
    perSecond >= target && failed === 0);
} finally {
  await server.stop();
  await psp.stop();
}

process.stdout.write(`\n${new Date().toISOString().slice(0, 10)}, ${onPostgres ? 'PostgreSQL' : 'embedded PGlite'}\n\n| ePayment | target | measured | |\n| --- | --- | --- | --- |\n`);
for (const [label, target, measured, met] of rows) process.stdout.write(`| ${label} | ${target} | ${measured} | ${met === undefined ? '' : met ? 'met' : '**missed**'} |\n`);
