// npm run bench:compare — this server against Stoplight Prism serving the official PSP API spec with
// its static examples, and against the ceiling of the stack (a bare Fastify route, no database:
// bench/ceiling-server.ts), in one run on one machine, and the rest of the performance targets: the full
// flow, memory under a mixed load, the status batch, updatestatus ingest and details at scale. On
// PostgreSQL when DATABASE_URL is set, else on the embedded database. Prism is fetched from npm on
// demand (npx), never a dependency of the server.
//   BENCH_SECONDS (10) per load, BENCH_CONNECTIONS (50), BENCH_MIXED_SECONDS (60),
//   BENCH_UPDATES (100000), BENCH_FILL (1000000 on PostgreSQL; 0 skips the scale row),
//   PRISM_VERSION (5.16.0), BENCH_RUN (src, or dist: the built JavaScript the package runs; build first).
//   On PostgreSQL init and details are also measured with WORKERS=2.
import type autocannon from 'autocannon';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEMO, ensureBenchDatabase, fillPayments, initPayload, pspHeaders, startBenchServer, startCeiling, startOkPsp, startPrism, type BenchServer } from './common.ts';
import { batch, cannon, detailsRequests, flows, initRequests, type LoadResult } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const mixedSeconds = Number(process.env.BENCH_MIXED_SECONDS ?? 60);
const updates = Number(process.env.BENCH_UPDATES ?? 100_000);
const onPostgres = Boolean(process.env.DATABASE_URL);
const fill = onPostgres ? Number(process.env.BENCH_FILL ?? 1_000_000) : 0;
const prismVersion = process.env.PRISM_VERSION ?? '5.16.0';
// Before anything else (Prism takes a while to fetch): a DATABASE_URL naming a database that does not
// exist yet is created as the server would, or the run ends with a message saying how.
if (onPostgres) await ensureBenchDatabase(process.env.DATABASE_URL!);

interface Row { label: string; target: string; measured: string; met: boolean | undefined }
const rows: Row[] = [];
function report(label: string, target: string, measured: string, met: boolean | undefined): void {
  rows.push({ label, target, measured, met });
  process.stdout.write(`  ${label}: ${measured}${met === undefined ? '' : met ? '  (target met)' : '  (target missed)'}\n`);
}
const fmt = (r: LoadResult) => `${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.bad ? `, ${r.bad} non-2xx` : ''}`;

/** The official spec less its `[ makePaymentUrl ]` pseudo-path (the PSP's endpoint, which Prism cannot serve). */
function prismSpec(): string {
  const lines = readFileSync(path.resolve(import.meta.dirname, '../openapi/psp-api.openapi.yaml'), 'utf8').split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (/^ {2}"\[ makePaymentUrl \]":/.test(line)) { skipping = true; continue; }
    if (skipping && (/^ {2}\S/.test(line) || /^\S/.test(line))) skipping = false;
    if (!skipping) out.push(line);
  }
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vipps-psp-prism-')), 'psp-api.yaml');
  writeFileSync(file, out.join('\n'));
  return file;
}

/** The highest resident memory of `server` while `work` runs, sampled every 250 ms (MiB). */
async function peakRssDuring<T>(server: BenchServer, work: Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = server.rssMiB();
  const timer = setInterval(() => { peak = Math.max(peak, server.rssMiB()); }, 250);
  try {
    const result = await work;
    return { result, peakMiB: Math.max(peak, server.rssMiB()) };
  } finally {
    clearInterval(timer);
  }
}

const headersFor = async (server: BenchServer) => ({ ...(await pspHeaders(server.url)), 'content-type': 'application/json;charset=UTF-8' });
const load = (opts: Omit<autocannon.Options, 'connections' | 'duration'>) => cannon({ connections, duration: seconds, ...opts });

process.stdout.write(`bench:compare on ${onPostgres ? 'PostgreSQL' : 'the embedded database (PGlite)'}, ${connections} connections, ${seconds} s per load, server from ${process.env.BENCH_RUN === 'dist' ? 'dist/ (built)' : 'src/ (type stripping)'}\n`);

// 1. Prism, alone on the machine.
const prism = await startPrism(prismSpec(), '/v3/psppayments/x/details', prismVersion);
let prismInit: LoadResult;
let prismDetails: LoadResult;
try {
  // Prism checks that the spec's headers are there, not their values.
  const headers = {
    authorization: 'Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.x', 'ocp-apim-subscription-key': DEMO.subscriptionKey,
    'psp-id': DEMO.pspId, 'merchant-serial-number': DEMO.msn, 'content-type': 'application/json;charset=UTF-8',
  };
  prismInit = await load({ url: `${prism.url}/v3/psppayments/init`, method: 'POST', headers, body: initPayload('prism1', 'https://psp.example.com/makepayment') });
  prismDetails = await load({ url: `${prism.url}/v3/psppayments/prism1/details`, method: 'GET', headers });
  process.stdout.write(`  Prism init: ${fmt(prismInit)}\n  Prism details: ${fmt(prismDetails)}\n`);
} finally {
  await prism.stop();
}

// 1b. The ceiling: a bare Fastify route (JSON in, JSON out, no database) under the same load.
const ceiling = await startCeiling();
let ceilingPost: LoadResult;
let ceilingGet: LoadResult;
try {
  const headers = { 'content-type': 'application/json;charset=UTF-8' };
  const prefix = `b${randomBytes(3).toString('hex')}`;
  ceilingPost = await load(initRequests(`${ceiling.url}/v3/psppayments/init`, headers, prefix, 'https://psp.example.com/makepayment').options);
  ceilingGet = await load({ url: `${ceiling.url}/v3/psppayments/${prefix}1/details`, method: 'GET' });
} finally {
  await ceiling.stop();
}
/** A load's throughput as a share of the ceiling's, in per cent. */
const share = (r: LoadResult, of: LoadResult) => Math.round((100 * r.rps) / Math.max(1, of.rps));
report('ceiling: bare Fastify POST', 'the limit of the stack here', fmt(ceilingPost), undefined);
report('ceiling: bare Fastify GET', 'the limit of the stack here', fmt(ceilingGet), undefined);

// 2. This server: init and details, then the full flow.
const psp = await startOkPsp();
try {
  {
    const server = await startBenchServer();
    try {
      const headers = await headersFor(server);
      const prefix = `c${randomBytes(3).toString('hex')}`;
      const inits = initRequests(`${server.url}/psp/v3/psppayments/init`, headers, prefix, 'http://127.0.0.1:9/makepayment');
      const init = await load(inits.options);
      const ids = Array.from({ length: Math.min(inits.count(), 10_000) }, (_, i) => `${prefix}${i + 1}`);
      const details = await load(detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`));
      const initRatio = init.rps / prismInit.rps;
      const detailsRatio = details.rps / prismDetails.rps;
      const initTarget = onPostgres ? { ratio: 8, p99: 15, share: 35 } : { ratio: 5, p99: 25, share: 0 };
      const detailsTarget = onPostgres ? { share: 60 } : { share: 0 };
      const initShare = share(init, ceilingPost);
      const detailsShare = share(details, ceilingGet);
      report('init', `≥ ${initTarget.ratio}× Prism${initTarget.share ? `, ≥ ${initTarget.share} % of the ceiling` : ''}, p99 ≤ ${initTarget.p99} ms`,
        `${initRatio.toFixed(1)}× Prism, ${initShare} % of the ceiling (${fmt(init)}; Prism ${prismInit.rps} req/s)`,
        initRatio >= initTarget.ratio && initShare >= initTarget.share && init.p99 <= initTarget.p99);
      report('details', `≥ 10× Prism${detailsTarget.share ? `, ≥ ${detailsTarget.share} % of the ceiling` : ''}, p99 ≤ 10 ms`,
        `${detailsRatio.toFixed(1)}× Prism, ${detailsShare} % of the ceiling (${fmt(details)}; Prism ${prismDetails.rps} req/s)`,
        detailsRatio >= 10 && detailsShare >= detailsTarget.share && details.p99 <= 10);

      const flow = await flows(server.url, headers, psp.url, seconds, connections);
      const flowTarget = onPostgres ? 1000 : 300;
      report(`full flow, ${connections} concurrent`, `≥ ${flowTarget} flows/s${onPostgres ? ', p99 ≤ 100 ms' : ''}`,
        `${flow.flowsPerSecond} flows/s, p50 ${flow.p50} ms, p99 ${flow.p99} ms${flow.failed ? `, ${flow.failed} failed` : ''}`,
        flow.flowsPerSecond >= flowTarget && (!onPostgres || flow.p99 <= 100) && flow.failed === 0);
    } finally {
      await server.stop();
    }
  }

  // 2b. The same with WORKERS=2 (PostgreSQL only): what a second process on the port adds here.
  if (onPostgres) {
    const server = await startBenchServer({ WORKERS: '2' });
    try {
      const headers = await headersFor(server);
      const prefix = `w${randomBytes(3).toString('hex')}`;
      const inits = initRequests(`${server.url}/psp/v3/psppayments/init`, headers, prefix, 'http://127.0.0.1:9/makepayment');
      const init = await load(inits.options);
      const ids = Array.from({ length: Math.min(inits.count(), 10_000) }, (_, i) => `${prefix}${i + 1}`);
      const details = await load(detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`));
      report('init, WORKERS=2', 'shown against 1 worker', `${(init.rps / prismInit.rps).toFixed(1)}× Prism, ${share(init, ceilingPost)} % of the ceiling (${fmt(init)})`, undefined);
      report('details, WORKERS=2', 'shown against 1 worker', `${(details.rps / prismDetails.rps).toFixed(1)}× Prism, ${share(details, ceilingGet)} % of the ceiling (${fmt(details)})`, undefined);
    } finally {
      await server.stop();
    }
  }

  // 3. Memory under a mixed load: init, details and updatestatus at once, on a fresh server.
  {
    const server = await startBenchServer();
    try {
      const headers = await headersFor(server);
      const prefix = `m${randomBytes(3).toString('hex')}`;
      const seedIds = Array.from({ length: 200 }, (_, i) => `${prefix}s${i}`);
      for (const id of seedIds) {
        await fetch(`${server.url}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, 'http://127.0.0.1:9/x') });
      }
      const third = Math.max(1, Math.floor(connections / 3));
      const statusBody = JSON.stringify({ transactions: seedIds.slice(0, 20).map((id) => ({ pspTransactionId: id, status: 'CAPTURED', amount: 1 })) });
      const mixed = Promise.all([
        cannon({ connections: third, duration: mixedSeconds, ...initRequests(`${server.url}/psp/v3/psppayments/init`, headers, prefix, 'http://127.0.0.1:9/x').options }),
        cannon({ connections: third, duration: mixedSeconds, ...detailsRequests(server.url, headers, seedIds, (id) => `/psp/v3/psppayments/${id}/details`) }),
        cannon({ connections: third, duration: mixedSeconds, url: `${server.url}/psp/v3/psppayments/updatestatus`, method: 'POST', headers, body: statusBody }),
      ]);
      const { result, peakMiB } = await peakRssDuring(server, mixed);
      const limit = onPostgres ? 200 : 400;
      report(`RSS, ${mixedSeconds} s mixed load`, `≤ ${limit} MiB`, `peak ${peakMiB} MiB (init ${result[0].rps}, details ${result[1].rps}, updatestatus ${result[2].rps} req/s)`, peakMiB <= limit);
    } finally {
      await server.stop();
    }
  }

  // 4. The status batch and updatestatus ingest, on a fresh server.
  {
    const server = await startBenchServer();
    try {
      const headers = await headersFor(server);
      const { result, peakMiB } = await peakRssDuring(server, batch(server.url, headers, updates, 1000));
      const limits = onPostgres ? { s: 3, mib: 250 } : { s: 5, mib: 600 };
      report(`batch of ${updates} updates`, `≤ ${limits.s} s, peak RSS ≤ ${limits.mib} MiB`, `${result.batchSeconds.toFixed(2)} s, peak RSS ${peakMiB} MiB`,
        result.batchSeconds <= limits.s && peakMiB <= limits.mib && result.applied === updates);
      report('updatestatus ingest', '≥ 100,000 transactions/s', `${result.ingestTransactionsPerSecond} transactions/s (median ${result.ingestMedianMs} ms per 10,000)`,
        result.ingestTransactionsPerSecond >= 100_000);
    } finally {
      await server.stop();
    }
  }

  // 5. Details latency as the table grows (PostgreSQL).
  if (fill > 0) {
    const server = await startBenchServer();
    try {
      const headers = await headersFor(server);
      const prefix = `s${randomBytes(3).toString('hex')}`;
      await fillPayments(server.databaseUrl!, 10_000, prefix);
      const ids = Array.from({ length: 10_000 }, (_, i) => `${prefix}${i + 1}`);
      const detailsOf = () => load(detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`));
      const small = await detailsOf();
      await fillPayments(server.databaseUrl!, fill - 10_000, `${prefix}x`);
      const large = await detailsOf();
      const ratio = large.p50 / Math.max(small.p50, 0.01);
      report(`details at ${fill} payments`, '≤ 1.2× the latency at 10,000', `p50 ${large.p50} ms against ${small.p50} ms (${ratio.toFixed(2)}×); ${large.rps} against ${small.rps} req/s`,
        large.p50 <= small.p50 * 1.2);
    } finally {
      await server.stop();
    }
  }
} finally {
  await psp.stop();
}

const { cpus } = await import('node:os');
process.stdout.write(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`);
process.stdout.write(`\n| ${onPostgres ? 'PostgreSQL' : 'embedded PGlite'} | target | measured | |\n| --- | --- | --- | --- |\n`);
for (const r of rows) process.stdout.write(`| ${r.label} | ${r.target} | ${r.measured} | ${r.met === undefined ? '' : r.met ? 'met' : '**missed**'} |\n`);
