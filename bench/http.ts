// npm run bench:http — init and details throughput and latency with autocannon (50 connections),
// and latency of details at two table sizes. The server runs in its own process.
//   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50), BENCH_FILL (payments added before the
//   second details run, default 0 = skip; try 1000000 on PostgreSQL).
import { randomBytes } from 'node:crypto';
import { fillPayments, pspHeaders, row, startBenchServer } from './common.ts';
import { cannon as load, detailsRequests, initRequests, type LoadResult } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const fill = Number(process.env.BENCH_FILL ?? 0);

function report(label: string, r: LoadResult): void {
  row(label, `${r.rps} req/s   p50 ${r.p50} ms   p99 ${r.p99} ms   errors/non-2xx ${r.bad}`);
}

const server = await startBenchServer();
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp HTTP benchmark on ${server.backend}, ${connections} connections, ${seconds} s each\n`);
  const prefix = randomBytes(3).toString('hex');
  const inits = initRequests(`${server.url}/psp/v3/psppayments/init`, headers, `b${prefix}`, 'http://127.0.0.1:9/makepayment');
  report('POST /psp/v3/psppayments/init', await load({ connections, duration: seconds, ...inits.options }));
  const n = inits.count();

  const ids = Array.from({ length: Math.min(n, 5000) }, (_, i) => `b${prefix}${i + 1}`);
  const detailsRun = () => load({ connections, duration: seconds, ...detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`) });
  report(`GET …/details (${n} payments stored)`, await detailsRun());

  if (fill > 0 && server.databaseUrl) {
    const started = performance.now();
    await fillPayments(server.databaseUrl, fill, `f${prefix}`);
    row(`(added ${fill} payments in ${Math.round(performance.now() - started)} ms)`, '');
    report(`GET …/details (${n + fill} payments stored)`, await detailsRun());
  }
} finally {
  await server.stop();
}
