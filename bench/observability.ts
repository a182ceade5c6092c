// npm run bench:observability — what metrics cost: init and details with METRICS=true and with
// METRICS=false (tracing off in both, as by default), in alternating rounds on fresh servers so that
// the machine's drift falls on both alike. Reports each round and the median ratios: of throughput,
// and of the server process's CPU time per request (user + system, from /proc), which a busy, noisy
// machine disturbs far less than throughput.
//   BENCH_SECONDS (8) per load, BENCH_CONNECTIONS (50), BENCH_ROUNDS (3). PostgreSQL with DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pspHeaders, row, startBenchServer } from './common.ts';
import { cannon as load, detailsRequests, initRequests } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

type Figures = { init: number; initP99: number; details: number; detailsP99: number; initCpuUs: number; detailsCpuUs: number };

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(metrics: boolean): Promise<Figures> {
  const server = await startBenchServer({ METRICS: String(metrics) });
  try {
    const headers = await pspHeaders(server.url);
    const prefix = randomBytes(3).toString('hex');
    const inits = initRequests(`${server.url}/psp/v3/psppayments/init`, headers, `o${prefix}`, 'http://127.0.0.1:9/makepayment');
    const c0 = cpuSeconds(server.pid);
    const init = await load({ connections, duration: seconds, ...inits.options });
    const c1 = cpuSeconds(server.pid);
    const ids = Array.from({ length: Math.min(inits.count(), 5000) }, (_, i) => `o${prefix}${i + 1}`);
    const details = await load({ connections, duration: seconds, ...detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`) });
    const c2 = cpuSeconds(server.pid);
    return {
      init: init.rps, initP99: init.p99, details: details.rps, detailsP99: details.p99,
      initCpuUs: Math.round(((c1 - c0) / (init.rps * seconds)) * 1e6), detailsCpuUs: Math.round(((c2 - c1) / (details.rps * seconds)) * 1e6),
    };
  } finally {
    await server.stop();
  }
}

const on: Figures[] = [];
const off: Figures[] = [];
const first = await startBenchServer();
process.stdout.write(`metrics overhead on ${first.backend}, ${connections} connections, ${seconds} s per load, ${rounds} rounds\n`);
await first.stop();
for (let i = 0; i < rounds; i++) {
  // Alternating which goes first in a round.
  for (const metrics of i % 2 === 0 ? [true, false] : [false, true]) {
    const f = await measure(metrics);
    (metrics ? on : off).push(f);
    row(`round ${i + 1} METRICS=${metrics}`, `init ${f.init} req/s (p99 ${f.initP99} ms, ${f.initCpuUs} µs CPU)   details ${f.details} req/s (p99 ${f.detailsP99} ms, ${f.detailsCpuUs} µs CPU)`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = (k: keyof Figures) => median(on.map((f) => f[k])) / median(off.map((f) => f[k]));
row('init: throughput on / off (median)', `${(ratio('init') * 100).toFixed(1)} %   (target ≥ 95 %)`);
row('details: throughput on / off (median)', `${(ratio('details') * 100).toFixed(1)} %   (target ≥ 95 %)`);
row('init: server CPU per request on / off', `${(ratio('initCpuUs') * 100).toFixed(1)} %`);
row('details: server CPU per request on / off', `${(ratio('detailsCpuUs') * 100).toFixed(1)} %`);
