// npm run bench:batch — status updates at scale: ingest of 10,000-transaction requests, then one
// batch run applying them all (default 100,000). On the embedded database unless DATABASE_URL is set.
//   BENCH_UPDATES (default 100000), BENCH_PAYMENTS (default 1000)
import { ADMIN_TOKEN, initPayload, pspHeaders, row, startBenchServer } from './common.ts';

const total = Number(process.env.BENCH_UPDATES ?? 100_000);
const paymentCount = Number(process.env.BENCH_PAYMENTS ?? 1000);
const server = await startBenchServer({ STATUS_BATCH_CHUNK_SIZE: process.env.STATUS_BATCH_CHUNK_SIZE ?? '20000' });
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp status batch benchmark on ${server.backend}: ${total} updates over ${paymentCount} payments\n`);
  const ids: string[] = [];
  const prefix = `bb${Date.now().toString(36)}`;
  for (let i = 0; i < paymentCount; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, paymentCount - i) }, async (_, j) => {
      const id = `${prefix}${i + j}`;
      const r = await fetch(`${server.url}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, 'http://127.0.0.1:9/x', 10_000_000) });
      if (r.status !== 200) throw new Error(`init ${r.status} ${await r.text()}`);
      ids.push(id);
    }));
  }
  // One RESERVED per payment first (the reservation "happened elsewhere"), then captures of 1 øre.
  const updates = [
    ...ids.map((id) => ({ pspTransactionId: id, status: 'RESERVED', amount: 10_000_000 })),
    ...Array.from({ length: total - ids.length }, (_, i) => ({ pspTransactionId: ids[i % ids.length], status: 'CAPTURED', amount: 1 })),
  ];
  const ingestTimes: number[] = [];
  for (let i = 0; i < updates.length; i += 10_000) {
    const body = JSON.stringify({ transactions: updates.slice(i, i + 10_000) });
    const started = performance.now();
    const r = await fetch(`${server.url}/psp/v3/psppayments/updatestatus`, { method: 'POST', headers, body });
    ingestTimes.push(performance.now() - started);
    if (r.status !== 200) throw new Error(`updatestatus ${r.status} ${(await r.text()).slice(0, 300)}`);
  }
  ingestTimes.sort((a, b) => a - b);
  row('ingest, one request of 10,000 transactions', `median ${Math.round(ingestTimes[Math.floor(ingestTimes.length / 2)])} ms, max ${Math.round(ingestTimes[ingestTimes.length - 1])} ms (${ingestTimes.length} requests)`);
  const started = performance.now();
  const run = await fetch(`${server.url}/admin/status-batch/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const summary = (await run.json()) as { applied: number; rejected: number; durationMs: number };
  const wall = performance.now() - started;
  row(`batch run applying ${total} updates`, `${(summary.durationMs / 1000).toFixed(2)} s in the server (${(wall / 1000).toFixed(2)} s wall), applied ${summary.applied}, rejected ${summary.rejected}`);
  row('server peak RSS', `${server.peakRssMiB()} MiB`);
  if (summary.applied !== total) throw new Error(`expected ${total} applied`);
} finally {
  await server.stop();
}
