// What a PostgreSQL outage costs under load. Starts the server on a fresh database of DATABASE_URL,
// runs init + details from BENCH_CONNECTIONS loops for BENCH_SECONDS, and probes PostgreSQL directly
// every 50 ms. Restart or stop PostgreSQL yourself while it runs (for example
// `pg_ctlcluster --skip-systemctl-redirect 15 main restart` in another terminal). It then prints how
// long the database was gone, how long the server took to serve again after it was back, what the
// requests answered meanwhile, and whether every acknowledged init can still be read.
import pg from 'pg';
import { initPayload, pspHeaders, row, startBenchServer } from './common.ts';

if (!process.env.DATABASE_URL) {
  process.stderr.write('bench:db-outage needs DATABASE_URL (a PostgreSQL server you may restart)\n');
  process.exit(2);
}
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);

const server = await startBenchServer();
const headers = await pspHeaders(server.url);
const databaseUrl = server.databaseUrl!;
const end = Date.now() + seconds * 1000;
const statuses = new Map<number | string, number>();
const acknowledged: string[] = [];
let lastFailure = 0;
let firstFailure = 0;
let firstSuccessAfterFailure = 0;

function record(status: number | string, at: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  if (status === 200) {
    if (lastFailure && !firstSuccessAfterFailure && at > lastFailure) firstSuccessAfterFailure = at;
  } else {
    if (!firstFailure) firstFailure = at;
    lastFailure = at;
    firstSuccessAfterFailure = 0;
  }
}

async function loop(n: number): Promise<void> {
  let i = 0;
  while (Date.now() < end) {
    const id = `outage-${n}-${i++}-${Date.now().toString(36)}`;
    try {
      const init = await fetch(`${server.url}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, 'http://127.0.0.1:9/never') });
      await init.arrayBuffer();
      record(init.status, Date.now());
      if (init.status === 200) acknowledged.push(id);
      const details = await fetch(`${server.url}/psp/v3/psppayments/${id}/details`, { headers });
      await details.arrayBuffer();
      record(details.status === 404 ? 'details 404' : details.status, Date.now());
    } catch (err) {
      record(`connection error (${(err as Error).message})`, Date.now());
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Times when PostgreSQL stopped and started answering a fresh connection. */
async function probe(): Promise<{ down: number; up: number }> {
  let down = 0;
  let up = 0;
  while (Date.now() < end) {
    const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1000 });
    c.on('error', () => {});
    let ok = false;
    try {
      await c.connect();
      await c.query('select 1');
      ok = true;
    } catch { /* down */ }
    await c.end().catch(() => {});
    const now = Date.now();
    if (!ok && !down) down = now;
    if (ok && down && !up) up = now;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { down, up };
}

process.stdout.write(`Load for ${seconds} s on ${server.backend}: restart PostgreSQL now.\n`);
const [{ down, up }] = await Promise.all([probe(), ...Array.from({ length: connections }, (_, n) => loop(n))]);
const alive = (await fetch(`${server.url}/health`).then((r) => r.status).catch(() => 0)) === 200;

let lost = 0;
const check = new pg.Client({ connectionString: databaseUrl });
await check.connect();
for (let i = 0; i < acknowledged.length; i += 5000) {
  const ids = acknowledged.slice(i, i + 5000);
  const found = await check.query('select count(*)::int as n from payments where psp_transaction_id = any($1)', [ids]);
  lost += ids.length - found.rows[0].n;
}
await check.end();

row('answers', [...statuses].map(([s, n]) => `${s}: ${n}`).join(', '));
if (down && up) {
  row('PostgreSQL unreachable for', `${up - down} ms`);
  row('server failing requests for', firstFailure ? `${lastFailure - firstFailure} ms` : 'none');
  row('server serving again after PostgreSQL was back', firstSuccessAfterFailure ? `${Math.max(0, firstSuccessAfterFailure - up)} ms` : 'not within the run');
} else {
  row('PostgreSQL unreachable', 'never during the run (restart it while the load runs)');
}
row('server process alive at the end', alive ? 'yes' : 'NO');
row('acknowledged inits lost', `${lost} of ${acknowledged.length}`);
await server.stop();
