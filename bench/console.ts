// npm run bench:console — the payments list at scale (PostgreSQL only): BENCH_FILL (1,000,000) payments
// spread over four PSPs, their sales units, every state and 30 days, then the answer time of the
// console's list page (/console/payments, signed in) and of GET /admin/payments: the first page and a
// page deep in the keyset order, without a filter and with each (PSP, MSN, state, time range, search,
// and PSP + MSN + state together). BENCH_REQUESTS (50) sequential requests each; p50 and p99 in a
// Markdown table, against the target of 50 ms.
// Then, on the same filled database, a short run of the API's own work (init, the full flow with
// makePayment, details, updatestatus and the status batch, expiry by time travel) besides the lists,
// and the table scans it caused: per table of more than 10,000 rows, how many sequential scans and how
// many index scans PostgreSQL counted (pg_stat_user_tables). Every lookup has an index when the
// sequential column is 0.
import pg from 'pg';
import { ADMIN_TOKEN, DEMO, fillPayments, pspHeaders, startBenchServer, startOkPsp } from './common.ts';
import { batch, flows } from './measure.ts';

const TARGET_MS = 50;
const STATES = ['RESERVED', 'INITIATED', 'TIMEOUT', 'USER_CANCEL', 'FAILED', 'RESERVED', 'AWAITING_USER', 'RESERVED'];
const DAYS = 30;

if (!process.env.DATABASE_URL) {
  process.stderr.write('bench:console needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:console\n');
  process.exit(2);
}
const fill = Number(process.env.BENCH_FILL ?? 1_000_000);
const requests = Number(process.env.BENCH_REQUESTS ?? 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Signs in to the console with the operator token; the cookies of the session. */
async function consoleCookies(url: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (r: Response) => {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await fetch(`${url}/console/sign-in`);
  keep(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the sign-in page');
  const signIn = await fetch(`${url}/console/sign-in`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token: ADMIN_TOKEN }).toString(),
  });
  await signIn.text();
  if (signIn.status !== 303) throw new Error(`sign-in answered ${signIn.status}`);
  keep(signIn);
  return cookie();
}

const server = await startBenchServer();
try {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  // Three more PSPs, each with two sales units; the demo PSP keeps its own.
  const psps = [DEMO.pspId];
  for (const name of ['Bench PSP A', 'Bench PSP B', 'Bench PSP C']) {
    const r = await fetch(`${server.url}/admin/psps`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    psps.push(((await r.json()) as { pspId: string }).pspId);
  }
  const owners = [{ pspId: DEMO.pspId, msn: DEMO.msn }, ...psps.slice(1).flatMap((pspId, i) => [{ pspId, msn: String(700001 + 2 * i) }, { pspId, msn: String(700002 + 2 * i) }])];
  const prefix = 'c';
  const started = performance.now();
  await fillPayments(server.databaseUrl!, fill, prefix, { owners, states: STATES, seconds: DAYS * 24 * 3600 });
  process.stdout.write(`Filled ${fill.toLocaleString('en')} payments (${owners.length} sales units of ${psps.length} PSPs, ${DAYS} days) in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

  // A position 90% down the list (an old row), for a deep keyset page; any filter accepts it.
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ at: string; payment_id: string; psp_transaction_id: string }>(
    'select created_at::text as at, payment_id, psp_transaction_id from payments where psp_transaction_id in ($1, $2) order by psp_transaction_id',
    [`${prefix}${Math.floor(fill * 0.9)}`, `${prefix}${Math.floor(fill / 2)}`],
  );
  await db.end();
  const deep = rows.find((r) => r.psp_transaction_id === `${prefix}${Math.floor(fill * 0.9)}`)!;
  const middle = `${prefix}${Math.floor(fill / 2)}`;
  const deepKey = `${deep.at}|${deep.payment_id}`;
  const day = (n: number) => new Date(Date.now() - n * 24 * 3600 * 1000).toISOString().slice(0, 16);

  const filters: Array<{ name: string; console: Record<string, string>; admin: Record<string, string>; deep: boolean }> = [
    { name: 'none', console: {}, admin: {}, deep: true },
    { name: 'PSP', console: { psp: psps[1] }, admin: { psp: psps[1] }, deep: true },
    { name: 'MSN', console: { msn: owners[3].msn }, admin: { msn: owners[3].msn }, deep: true },
    { name: 'state', console: { state: 'TIMEOUT' }, admin: { state: 'TIMEOUT' }, deep: true },
    { name: 'time range (1 day)', console: { from: day(11), to: day(10) }, admin: { since: `${day(11)}:00Z`, until: `${day(10)}:00Z` }, deep: false },
    { name: 'search', console: { q: middle }, admin: { search: middle }, deep: false },
    { name: 'PSP + MSN + state', console: { psp: DEMO.pspId, msn: DEMO.msn, state: 'RESERVED' }, admin: { psp: DEMO.pspId, msn: DEMO.msn, state: 'RESERVED' }, deep: true },
  ];

  const scansBefore = await tableScans(server.databaseUrl!);
  const cookie = await consoleCookies(server.url);
  const endpoints = [
    { name: '/console/payments', headers: { cookie }, path: (f: Record<string, string>, after?: string) => `/console/payments?${new URLSearchParams({ ...f, ...(after ? { after } : {}) })}` },
    { name: 'GET /admin/payments', headers: admin, path: (f: Record<string, string>, after?: string) => `/admin/payments?${new URLSearchParams({ ...f, ...(after ? { after: Buffer.from(after).toString('base64url') } : {}) })}` },
  ];

  const lines: string[] = [];
  let worst = 0;
  for (const endpoint of endpoints) {
    for (const f of filters) {
      for (const page of f.deep ? ['first', 'deep'] as const : ['first'] as const) {
        const path = endpoint.path(endpoint === endpoints[0] ? f.console : f.admin, page === 'deep' ? deepKey : undefined);
        const times: number[] = [];
        let listed = 0;
        for (let i = 0; i < requests + 3; i++) {
          const t = performance.now();
          const r = await fetch(`${server.url}${path}`, { headers: endpoint.headers });
          const text = await r.text();
          if (i >= 3) times.push(performance.now() - t);
          if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
          listed = endpoint === endpoints[0] ? text.split('<tr id="payment-').length - 1 : (JSON.parse(text) as { payments: unknown[] }).payments.length;
        }
        // Every case lists rows: an empty answer would measure nothing.
        if (listed === 0) throw new Error(`${path} listed no payment`);
        times.sort((a, b) => a - b);
        const p50 = percentile(times, 50);
        const p99 = percentile(times, 99);
        worst = Math.max(worst, p99);
        lines.push(`| ${endpoint.name} | ${f.name} | ${page} | ${listed} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${p99 < TARGET_MS ? 'yes' : 'NO'} |`);
        process.stderr.write('.');
      }
    }
  }
  process.stderr.write('\n');
  process.stdout.write(`\nPayments list on ${server.backend}, ${fill.toLocaleString('en')} payments, ${requests} sequential requests each (ms):\n\n`);
  process.stdout.write(`| list | filter | page | rows | p50 | p99 | p99 < ${TARGET_MS} ms |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n${lines.join('\n')}\n`);
  process.stdout.write(`\nWorst p99: ${worst.toFixed(1)} ms (target < ${TARGET_MS} ms)\n`);

  // The API's own work on the same database.
  const psp = await startOkPsp();
  try {
    const headers = { ...(await pspHeaders(server.url)), 'content-type': 'application/json;charset=UTF-8' };
    const flow = await flows(server.url, headers, psp.url, 3, 10);
    if (flow.flowsPerSecond === 0) throw new Error('no full flow completed');
    for (const id of [`${prefix}1`, middle, `${prefix}${fill}`]) {
      const r = await fetch(`${server.url}/psp/v3/psppayments/${id}/details`, { headers });
      await r.text();
    }
    await batch(server.url, headers, 2_000, 200);
    const advance = await fetch(`${server.url}/admin/clock/advance`, {
      method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 3600 }),
    });
    await advance.text();
    // The sweeper runs on its own schedule: give it a round.
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    await psp.stop();
  }
  // A backend reports its counters when it goes idle, at most every ten seconds.
  await new Promise((r) => setTimeout(r, 11_000));
  const scansAfter = await tableScans(server.databaseUrl!);
  const scanLines = [...scansAfter].filter(([, a]) => a.rows > 10_000).map(([table, a]) => {
    const b = scansBefore.get(table) ?? { seq: 0, idx: 0, rows: 0 };
    return `| ${table} | ${a.rows.toLocaleString('en')} | ${a.seq - b.seq} | ${a.idx - b.idx} |`;
  });
  process.stdout.write(`\nTable scans during the lists and the API's work (tables of more than 10,000 rows):\n\n| table | rows | sequential scans | index scans |\n| --- | ---: | ---: | ---: |\n${scanLines.join('\n')}\n`);
} finally {
  await server.stop();
}

/** Per table: rows, sequential scans and index scans so far. */
async function tableScans(url: string): Promise<Map<string, { rows: number; seq: number; idx: number }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ relname: string; rows: string; seq: string; idx: string }>(
      `select relname, greatest(n_live_tup, 0) as rows, seq_scan as seq, coalesce(idx_scan, 0) as idx
       from pg_stat_user_tables order by relname`);
    return new Map(rows.map((r) => [r.relname, { rows: Number(r.rows), seq: Number(r.seq), idx: Number(r.idx) }]));
  } finally {
    await c.end();
  }
}
