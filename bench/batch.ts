// npm run bench:batch — status updates at scale: ingest of 10,000-transaction requests, then one
// batch run applying them all (default 100,000). On the embedded database unless DATABASE_URL is set.
//   BENCH_UPDATES (default 100000), BENCH_PAYMENTS (default 1000)
import { pspHeaders, row, startBenchServer } from './common.ts';
import { batch } from './measure.ts';

const total = Number(process.env.BENCH_UPDATES ?? 100_000);
const paymentCount = Number(process.env.BENCH_PAYMENTS ?? 1000);
const server = await startBenchServer({ STATUS_BATCH_CHUNK_SIZE: process.env.STATUS_BATCH_CHUNK_SIZE ?? '20000' });
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp status batch benchmark on ${server.backend}: ${total} updates over ${paymentCount} payments\n`);
  const r = await batch(server.url, headers, total, paymentCount);
  row('ingest, one request of 10,000 transactions', `median ${r.ingestMedianMs} ms (${r.ingestTransactionsPerSecond} transactions/s)`);
  row(`batch run applying ${total} updates`, `${r.batchSeconds.toFixed(2)} s, applied ${r.applied}, rejected ${r.rejected}`);
  row('server peak RSS', `${server.peakRssMiB()} MiB`);
  if (r.applied !== total) throw new Error(`expected ${total} applied`);
} finally {
  await server.stop();
}
