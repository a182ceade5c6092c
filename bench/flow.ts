// npm run bench:flow — full payment flows per second: init → approve (the force-approve endpoint,
// which does what the user's approval does) → makePayment to a PSP on loopback → RESERVED.
//   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (concurrent flows, default 50)
import { Agent, request } from 'undici';
import { initPayload, pspHeaders, row, startBenchServer, startOkPsp } from './common.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONNECTIONS ?? 50);

const psp = await startOkPsp();
const server = await startBenchServer();
const agent = new Agent({ connections: concurrency * 2 });
try {
  const headers = await pspHeaders(server.url);
  process.stdout.write(`vipps-psp full-flow benchmark on ${server.backend}, ${concurrency} concurrent flows, ${seconds} s\n`);
  const prefix = `fl${Date.now().toString(36)}`;
  let n = 0;
  let done = 0;
  let failed = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const id = `${prefix}${++n}`;
      const started = performance.now();
      const init = await request(`${server.url}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, psp.url), dispatcher: agent });
      const body = (await init.body.json()) as { vippsRedirectUrl?: string };
      if (init.statusCode !== 200 || !body.vippsRedirectUrl) { failed++; continue; }
      const token = new URL(body.vippsRedirectUrl).searchParams.get('token');
      const approve = await request(`${server.url}/psp/v3/integration-test/psppayments/${id}/approve`, {
        method: 'POST', headers, body: JSON.stringify({ customerPhoneNumber: '92929292', token }), dispatcher: agent,
      });
      await approve.body.dump();
      if (approve.statusCode !== 200) { failed++; continue; }
      latencies.push(performance.now() - started);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0);
  row('init → approve → makePayment → RESERVED', `${Math.round(done / seconds)} flows/s   p50 ${p(0.5)} ms   p99 ${p(0.99)} ms   failed ${failed}`);
} finally {
  await agent.close();
  await server.stop();
  await psp.stop();
}
