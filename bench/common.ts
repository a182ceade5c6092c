// Shared pieces of the benchmarks: a server in its own process (so the load generator does not
// share its event loop), the demo credentials, and a PSP that answers makePayment with OK.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { DatabaseMissingError, ensureDatabase } from '../src/store/create-database.ts';

export const DEMO = {
  pspId: 'C948DFD1546347568874C4DDC93A2E3C',
  clientId: 'fb492b5e-7907-4d83-bc20-c7fb60ca35de',
  clientSecret: 'Y8Kteew6GE3ZmeycEt6egg==',
  subscriptionKey: '0f14ebcab0ec4b29ae0cb90d91b4a84a',
  msn: '123456',
};
/** The memory flags `npm start` gives Node (package.json), for the server and the ceiling alike. */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=1024'];

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface BenchServer {
  url: string;
  backend: string;
  /** The PostgreSQL database of this run (undefined on PGlite). */
  databaseUrl?: string;
  /** Peak resident memory of the server process so far, in MiB (Linux). */
  peakRssMiB(): number;
  /** Resident memory of the server process now, in MiB (Linux). */
  rssMiB(): number;
  /** The server's process id. */
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

let ensured: Promise<void> | undefined;

/**
 * Makes sure the database DATABASE_URL names exists (the benchmarks make their own databases through
 * it), creating it as the server does; when that is not possible, says how and exits.
 */
export function ensureBenchDatabase(url: string): Promise<void> {
  ensured ??= ensureDatabase(url).then(({ created, name, where }) => {
    if (created) process.stderr.write(`Created the database ${name} on ${where}\n`);
  }, (err: unknown) => {
    const reason = err instanceof DatabaseMissingError ? err.message : `Cannot connect to DATABASE_URL: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${reason}\n`);
    process.exit(2);
  });
  return ensured;
}

/** Starts `vipps-psp start` on a fresh database: PostgreSQL when DATABASE_URL is set, else PGlite. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  let dbEnv: Record<string, string>;
  let drop = async () => {};
  let backend: string;
  if (process.env.DATABASE_URL) {
    await ensureBenchDatabase(process.env.DATABASE_URL);
    const name = `vipps_psp_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    dbEnv = { DATABASE_URL: u.toString(), DB_POOL_SIZE: env.DB_POOL_SIZE ?? '50' };
    backend = 'PostgreSQL';
    drop = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  } else {
    dbEnv = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'vipps-psp-bench-')), DATABASE_URL: '' };
    backend = 'PGlite (embedded)';
  }
  // As `npm start` runs it: a young generation of at most 3 × 8 MiB and an old one of at most 1 GiB,
  // which also keeps V8 from letting the heap grow to four times what it holds (docs/performance.md).
  // BENCH_RUN=dist runs the built JavaScript (`npm run build` first), as the installed package does.
  const entry = process.env.BENCH_RUN === 'dist' ? 'dist/cli/main.js' : 'src/cli/main.ts';
  // BENCH_NODE_FLAGS: more flags for the server's Node (space-separated), to try a setting.
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...flags, entry, 'start'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADMIN_TOKEN, ...dbEnv, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    backend,
    databaseUrl: dbEnv.DATABASE_URL || undefined,
    peakRssMiB: () => procStatusMiB(child.pid, 'VmHWM'),
    rssMiB: () => procStatusMiB(child.pid, 'VmRSS'),
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await drop();
    },
  };
}

/** A memory figure of /proc/<pid>/status (VmRSS, VmHWM) in MiB; 0 where there is none. */
function procStatusMiB(pid: number | undefined, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

export async function pspHeaders(url: string): Promise<Record<string, string>> {
  const r = await fetch(`${url}/accessToken/get`, {
    method: 'POST',
    headers: { client_id: DEMO.clientId, client_secret: DEMO.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.subscriptionKey },
  });
  const token = ((await r.json()) as { access_token: string }).access_token;
  return {
    authorization: `Bearer ${token}`,
    'ocp-apim-subscription-key': DEMO.subscriptionKey,
    'psp-id': DEMO.pspId,
    'merchant-serial-number': DEMO.msn,
    'content-type': 'application/json',
  };
}

/** A PSP in its own process that answers every makePayment with OK. */
export async function startOkPsp(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'psp-ok.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export function initPayload(id: string, makePaymentUrl: string, amount = 49900): string {
  return JSON.stringify({
    pspTransactionId: id, merchantOrderId: id, amount, currency: 'NOK',
    pspRedirectUrl: 'https://example.com/return', makePaymentUrl, makePaymentToken: 'bench-token', paymentText: 'Benchmark',
  });
}

export function row(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(46)} ${value}\n`);
}

/** How fillPayments spreads its rows, for lists and filters to be measured on realistic data. */
export interface FillSpread {
  /** The PSP and sales unit of each row, in turn. */
  owners: Array<{ pspId: string; msn: string }>;
  /** The states of the rows, in turn (after the owners). */
  states: string[];
  /** created_at runs evenly from now back over this many seconds (row 1 newest). */
  seconds: number;
}

/**
 * Adds `count` payments straight into the database (PostgreSQL only), to measure at scale: RESERVED
 * payments of the demo PSP and sales unit created in one moment, or with `spread` spread over owners,
 * states and time. pspTransactionId and merchantOrderId are `prefix` and the row number.
 */
export async function fillPayments(databaseUrl: string, count: number, prefix: string, spread?: FillSpread): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  if (!spread) {
    await c.query(`
      insert into payments (psp_id, psp_transaction_id, msn, merchant_order_id, amount, currency, psp_redirect_url,
        make_payment_url, token_hash, three_ds_ref, state, reserved_amount)
      select $1, $2 || g, '123456', $2 || g, 10000, 'NOK', 'https://example.com', 'http://127.0.0.1:9/x',
        md5($2 || g), md5('3ds' || $2 || g), 'RESERVED', 10000
      from generate_series(1, $3::int) g`, [DEMO.pspId, prefix, count]);
  } else {
    const owners = spread.owners.length;
    await c.query(`
      insert into payments (psp_id, psp_transaction_id, msn, merchant_order_id, amount, currency, psp_redirect_url,
        make_payment_url, token_hash, three_ds_ref, state, reserved_amount, created_at, updated_at)
      select ($4::text[])[1 + g % $6::int], $1 || g, ($5::text[])[1 + g % $6::int], $1 || g, 10000, 'NOK', 'https://example.com',
        'http://127.0.0.1:9/x', md5($1 || g), md5('3ds' || $1 || g), s.state,
        case when s.state = 'RESERVED' then 10000 else 0 end, t.at, t.at
      from generate_series(1, $2::int) g
      cross join lateral (select ($7::text[])[1 + (g / $6::int) % cardinality($7::text[])] as state) s
      cross join lateral (select now() - make_interval(secs => $3::float8 * g / $2::int) as at) t`,
    [prefix, count, spread.seconds, spread.owners.map((o) => o.pspId), spread.owners.map((o) => o.msn), owners, spread.states]);
  }
  await c.query('analyze payments');
  await c.end();
}

/**
 * Stoplight Prism serving `specFile` (fetched from npm on demand by npx, never a dependency), ready once
 * `probePath` answers. Stopped with its whole process group.
 */
export async function startPrism(specFile: string, probePath: string, version: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  process.stdout.write(`Starting Prism ${version} (npx fetches it on first use)…\n`);
  const child: ChildProcess = spawn('npx', ['--yes', `@stoplight/prism-cli@${version}`, 'mock', '-h', '127.0.0.1', '-p', String(port), specFile], {
    stdio: ['ignore', 'ignore', 'pipe'], detached: true,
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Prism exited: ${err.slice(-2000)}`);
    try {
      await fetch(`${url}${probePath}`);
      break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`Prism did not start: ${err.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    async stop() {
      // npx runs Prism as a child of its own: end the whole process group.
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** The bare Fastify server of bench/ceiling-server.ts, run as the server is (same Node, same flags). */
export async function startCeiling(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, path.resolve(import.meta.dirname, 'ceiling-server.ts')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the ceiling server exited (${code})`)));
    child.stdout!.once('data', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}
