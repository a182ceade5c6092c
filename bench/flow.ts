// npm run bench:flow — full payment flows per second: init → approve (the force-approve endpoint,
// which does what the user's approval does) → makePayment to a PSP on loopback → RESERVED.
//   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (concurrent flows, default 50)
import { pspHeaders, row, startBenchServer, startOkPsp } from './common.ts';
import { flows } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONNECTIONS ?? 50);

const psp = await startOkPsp();
const server = await startBenchServer();
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp full-flow benchmark on ${server.backend}, ${concurrency} concurrent flows, ${seconds} s\n`);
  const r = await flows(server.url, headers, psp.url, seconds, concurrency);
  row('init → approve → makePayment → RESERVED', `${r.flowsPerSecond} flows/s   p50 ${r.p50} ms   p99 ${r.p99} ms   failed ${r.failed}`);
} finally {
  await server.stop();
  await psp.stop();
}
