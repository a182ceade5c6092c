// npm run bench:http — init and details throughput and latency with autocannon (50 connections),
// and latency of details at two table sizes. The server runs in its own process.
//   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50), BENCH_FILL (payments added before the
//   second details run, default 0 = skip; try 1000000 on PostgreSQL).
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { fillPayments, initPayload, pspHeaders, row, startBenchServer } from './common.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const fill = Number(process.env.BENCH_FILL ?? 0);

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections, duration: seconds, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function report(label: string, r: autocannon.Result): void {
  const non2xx = r.non2xx + r.errors;
  row(label, `${Math.round(r.requests.average)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   errors/non-2xx ${non2xx}`);
}

const server = await startBenchServer();
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp HTTP benchmark on ${server.backend}, ${connections} connections, ${seconds} s each\n`);
  const prefix = randomBytes(3).toString('hex');
  let n = 0;
  const init = await cannon({
    url: `${server.url}/psp/v3/psppayments/init`,
    method: 'POST',
    headers,
    requests: [{
      setupRequest: (req) => {
        n += 1;
        return { ...req, body: initPayload(`b${prefix}${n}`, 'http://127.0.0.1:9/makepayment') };
      },
    }],
  });
  report('POST /psp/v3/psppayments/init', init);

  const ids = Array.from({ length: Math.min(n, 5000) }, (_, i) => `b${prefix}${i + 1}`);
  let k = 0;
  const detailsRun = () => cannon({
    url: server.url,
    method: 'GET',
    headers,
    requests: [{ setupRequest: (req) => ({ ...req, path: `/psp/v3/psppayments/${ids[(k++) % ids.length]}/details` }) }],
  });
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
