// npm run bench:recurring — the Recurring PSP API on PostgreSQL (DATABASE_URL; the embedded database
// when unset, for a look only: the targets are PostgreSQL's):
//   1. BENCH_AGREEMENTS (100,000) ACTIVE agreements, written straight into the database (the sign-up
//      flow is measured by the tests, not here), each with last month's RECURRING charge, due and never
//      reported, and next month's;
//   2. batches of 50 RECURRING charges, BENCH_CONNECTIONS (2) at once for BENCH_SECONDS (10): answers
//      per second, p50, p99 (target: p99 ≤ 50 ms; more at once reach no more batches a second on two
//      cores, only longer queues); then GET agreement and payment-info under 50 connections;
//   3. the clock moved one month on: how long until every one of last month's unreported charges has
//      failed (its retry days over: the sweep, set-based) — target ≤ 10 s for 100,000 — and this month's
//      are payable;
//   4. BENCH_LARGE (1,000,000; 0 skips it) agreements in all, and step 2 again: latency should be flat.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN_TOKEN, DEMO, pspHeaders, startBenchServer } from './common.ts';
import { cannon, detailsRequests } from './measure.ts';

const agreementsWanted = Number(process.env.BENCH_AGREEMENTS ?? 100_000);
const large = Number(process.env.BENCH_LARGE ?? 1_000_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 2);

const server = await startBenchServer({ SWEEP_INTERVAL_MS: '200' });
if (!server.databaseUrl) {
  process.stdout.write('bench:recurring needs DATABASE_URL (PostgreSQL): its figures are PostgreSQL\'s.\n');
  await server.stop();
  process.exit(0);
}
const db = new pg.Client({ connectionString: server.databaseUrl });
await db.connect();

const osloDate = (at: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo' }).format(at);
const plusDays = (date: string, days: number) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};
async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** `count` ACTIVE agreements paid by the demo user's Visa, ids agr_<prefix><n>. */
async function seedAgreements(prefix: string, from: number, count: number): Promise<void> {
  const card = (await db.query(`select card_id from cards where phone = '92929292' and brand = 'VISA' limit 1`)).rows[0].card_id as string;
  const chunk = 100_000;
  for (let start = from; start < from + count; start += chunk) {
    const n = Math.min(chunk, from + count - start);
    await db.query(`
      insert into agreements (agreement_id, psp_id, msn, status, pricing_type, currency, amount, interval_unit, interval_count, product_name,
        merchant_agreement_url, merchant_redirect_url, country_code, card_psp_reference, card_callback_url, allowed_card_types,
        phone, card_id, card_type, expires_at, started_at, created_at, updated_at)
      select 'agr_' || $1 || g, $2, $3, 'ACTIVE', 'LEGACY', 'NOK', 9900, 'MONTH', 1, 'Bench box',
        'https://shop.example/a', 'https://shop.example/r', 'NO', 'bench-' || g, 'http://127.0.0.1:9/cb', '["VISA_DEBIT"]'::jsonb,
        '92929292', $4::uuid, 'VISA_DEBIT', now(), now(), now() - make_interval(secs => g), now()
      from generate_series($5::int, $6::int) g`, [prefix, DEMO.pspId, DEMO.msn, card, start, start + n - 1]);
  }
  await db.query('analyze agreements');
}

/** One RECURRING charge per agreement of the prefix, due on `due`, with its CREATE. */
async function seedCharges(prefix: string, count: number, tag: string, due: string, retryDays: number): Promise<void> {
  const retryUntil = await db.query(`select ($1::date + $2::int + 1)::timestamp at time zone 'Europe/Oslo' as t`, [due, retryDays]);
  await db.query(`
    with c as (
      insert into recurring_charges (msn, charge_id, agreement_id, psp_id, type, transaction_type, amount, currency, description, due, retry_days,
        retry_until, status, request_hash, transaction_id)
      select $1, $2 || g, 'agr_' || $3 || g, $4, 'RECURRING', 'DIRECT_CAPTURE', 9900, 'NOK', 'Bench box', $5, $6, $7, 'DUE', md5($2 || g), (1000000000 + g)::text
      from generate_series(1, $8::int) g
      returning msn, charge_id, amount
    )
    insert into recurring_charge_events (msn, charge_id, event, amount, success) select msn, charge_id, 'CREATE', amount, true from c`,
  [DEMO.msn, tag, prefix, DEMO.pspId, due, retryDays, retryUntil.rows[0].t, count]);
  await db.query('analyze recurring_charges; analyze recurring_charge_events');
}

const prefix = randomBytes(3).toString('hex');
const measured: Array<{ label: string; batch: string; get: string; info: string }> = [];

async function latencies(label: string, total: number): Promise<void> {
  const headers = { ...(await pspHeaders(server.url)), 'content-type': 'application/json' };
  const today = osloDate(new Date((await admin('GET', '/admin/clock')).now));
  let k = 0;
  const batch = await cannon({
    url: `${server.url}/recurring/v4/agreements/charges`, method: 'POST', connections, duration: seconds, headers,
    requests: [{
      setupRequest: (req) => {
        const n = ++k;
        const items = Array.from({ length: 50 }, (_, i) => ({
          agreementId: `agr_${prefix}${1 + ((n * 50 + i) % total)}`, chargeId: `b${label}-${n}-${i}`, type: 'RECURRING', amount: 9900,
          transactionType: 'DIRECT_CAPTURE', due: plusDays(today, 20), retryDays: 2,
        }));
        return { ...req, headers: { ...req.headers, 'idempotency-key': `b${label}-${n}` }, body: JSON.stringify(items) };
      },
    }],
  });
  const ids = Array.from({ length: 5000 }, (_, i) => `agr_${prefix}${1 + Math.floor((i * total) / 5000)}`);
  const get = await cannon({ connections: 50, duration: seconds, ...detailsRequests(server.url, headers, ids, (id) => `/recurring/v3/agreements/${id}`) });
  // This month's charges, of the first agreements (those that have one).
  const payable = Array.from({ length: 5000 }, (_, i) => String(1 + Math.floor((i * agreementsWanted) / 5000)));
  const info = await cannon({ connections: 50, duration: seconds, ...detailsRequests(server.url, headers, payable, (n) => `/recurring/v4/agreements/agr_${prefix}${n}/charges/now-${n}/payment-info`) });
  const fmt = (r: { rps: number; p50: number; p99: number; bad: number }, unit: string) => `${r.rps} ${unit}/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.bad ? ` (${r.bad} not 2xx)` : ''}`;
  measured.push({ label: `${total.toLocaleString('en-US')} agreements`, batch: fmt(batch, 'batches'), get: fmt(get, 'req'), info: fmt(info, 'req') });
  process.stdout.write(`  ${label}: batch of 50 ${fmt(batch, 'batches')}; GET agreement ${fmt(get, 'req')}; payment-info ${fmt(info, 'req')}\n`);
}

try {
  process.stdout.write(`bench:recurring on ${server.backend}: ${agreementsWanted.toLocaleString('en-US')} agreements${large ? `, then ${large.toLocaleString('en-US')}` : ''}\n`);
  let t = Date.now();
  await seedAgreements(prefix, 1, agreementsWanted);
  const today = osloDate(new Date((await admin('GET', '/admin/clock')).now));
  await seedCharges(prefix, agreementsWanted, 'last-', today, 3);
  await seedCharges(prefix, agreementsWanted, 'now-', plusDays(today, 31), 3);
  process.stdout.write(`  seeded ${agreementsWanted.toLocaleString('en-US')} agreements with two charges each in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

  // 3 first (before the batches add charges of their own): the month's advance.
  t = Date.now();
  await admin('POST', '/admin/clock/advance', { seconds: 31 * 24 * 3600 + 3600 });
  let left = agreementsWanted;
  while (left > 0 && Date.now() - t < 120_000) {
    left = Number((await db.query(`select count(*) as n from recurring_charges where charge_id like 'last-%' and status <> 'FAILED'`)).rows[0].n);
    if (left > 0) await new Promise((r) => setTimeout(r, 100));
  }
  const monthSeconds = (Date.now() - t) / 1000;
  process.stdout.write(`  one month on: ${agreementsWanted.toLocaleString('en-US')} unreported charges failed in ${monthSeconds.toFixed(1)} s${left ? ` (${left} not yet)` : ''}\n`);

  await latencies('small', agreementsWanted);
  if (large > agreementsWanted) {
    t = Date.now();
    await seedAgreements(prefix, agreementsWanted + 1, large - agreementsWanted);
    await seedCharges(prefix, large, 'now2-', plusDays(today, 40), 3);
    process.stdout.write(`  grown to ${large.toLocaleString('en-US')} agreements in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    await latencies('large', large);
  }

  process.stdout.write(`\n${new Date().toISOString().slice(0, 10)}, ${server.backend}, ${connections} connections for batches, 50 for reads\n\n`);
  process.stdout.write('| | batch of 50 charges (target p99 ≤ 50 ms) | GET agreement | payment-info |\n| --- | --- | --- | --- |\n');
  for (const m of measured) process.stdout.write(`| ${m.label} | ${m.batch} | ${m.get} | ${m.info} |\n`);
  process.stdout.write(`\nOne month on, ${agreementsWanted.toLocaleString('en-US')} unreported charges failed (their retry days over) in ${monthSeconds.toFixed(1)} s (target ≤ 10 s). RSS peak ${server.peakRssMiB()} MiB.\n`);
} finally {
  await db.end();
  await server.stop();
}
