// npm run bench:profile — one load against one fresh server, optionally with the server under Node's
// CPU profiler, and where its time went: the first step before any optimisation.
//   BENCH_LOAD       init (default), details, flow or mixed (init, details and updatestatus at once),
//                    or epayment-flow (create → force approve → capture, each step timed), or
//                    epayment-create
//   BENCH_SECONDS    length of the load (10); BENCH_CONNECTIONS (50)
//   PROFILE=1        run the server with --cpu-prof; at the end print its time by package and the
//                    functions that took the most (self time), and keep the .cpuprofile (for Chrome's
//                    DevTools) in BENCH_PROFILE_DIR (a new temporary folder by default)
// On PostgreSQL when DATABASE_URL is set, else on the embedded database.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type autocannon from 'autocannon';
import { initPayload, pspHeaders, startBenchServer, startOkPsp } from './common.ts';
import { cannon, detailsRequests, flows, initRequests } from './measure.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const load = process.env.BENCH_LOAD ?? 'init';
if (!['init', 'details', 'flow', 'mixed', 'epayment-flow', 'epayment-create'].includes(load)) {
  throw new Error(`BENCH_LOAD must be init, details, flow, mixed, epayment-flow or epayment-create, not ${load}`);
}
const profileDir = process.env.PROFILE === '1' ? process.env.BENCH_PROFILE_DIR ?? mkdtempSync(path.join(tmpdir(), 'vipps-psp-profile-')) : undefined;

const server = await startBenchServer(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {});
const psp = await startOkPsp();
try {
  const headers = { ...(await pspHeaders(server.url)), 'content-type': 'application/json;charset=UTF-8' };
  const prefix = `p${randomBytes(3).toString('hex')}`;
  const initUrl = `${server.url}/psp/v3/psppayments/init`;
  const fmt = (r: { rps: number; p50: number; p99: number }) => `${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;
  process.stdout.write(`bench:profile ${load} on ${server.backend}, ${connections} connections, ${seconds} s${profileDir ? ', CPU profile on' : ''}\n`);
  if (load === 'init') {
    process.stdout.write(`  init: ${fmt(await cannon({ connections, duration: seconds, ...initRequests(initUrl, headers, prefix, 'http://127.0.0.1:9/x').options }))}\n`);
  } else if (load === 'details') {
    const ids = Array.from({ length: 5000 }, (_, i) => `${prefix}${i + 1}`);
    await cannon({ connections, amount: ids.length, ...initRequests(initUrl, headers, prefix, 'http://127.0.0.1:9/x').options });
    process.stdout.write(`  details: ${fmt(await cannon({ connections, duration: seconds, ...detailsRequests(server.url, headers, ids, (id) => `/psp/v3/psppayments/${id}/details`) }))}\n`);
  } else if (load === 'flow') {
    const flow = await flows(server.url, headers, psp.url, seconds, connections);
    process.stdout.write(`  full flow: ${flow.flowsPerSecond} flows/s, p50 ${flow.p50} ms, p99 ${flow.p99} ms${flow.failed ? `, ${flow.failed} failed` : ''}\n`);
  } else if (load === 'epayment-create') {
    let n = 0;
    const created = await cannon({
      connections, duration: seconds, url: `${server.url}/epayment/v1/payments`, method: 'POST', headers,
      requests: [{
        setupRequest: (req: autocannon.Request) => {
          const reference = `${prefix}-${++n}`;
          return { ...req, headers: { ...req.headers, 'idempotency-key': reference }, body: epaymentCreateBody(reference, psp.url) };
        },
      }],
    });
    process.stdout.write(`  ePayment create: ${fmt(created)}\n`);
  } else if (load === 'epayment-flow') {
    process.stdout.write(`  ${await epaymentFlows(server.url, headers, psp.url)}\n`);
  } else {
    const seedIds = Array.from({ length: 200 }, (_, i) => `${prefix}s${i}`);
    for (const id of seedIds) await fetch(initUrl, { method: 'POST', headers, body: initPayload(id, 'http://127.0.0.1:9/x') });
    const statusBody = JSON.stringify({ transactions: seedIds.slice(0, 20).map((id) => ({ pspTransactionId: id, status: 'CAPTURED', amount: 1 })) });
    const third = Math.max(1, Math.floor(connections / 3));
    const [i, d, u] = await Promise.all([
      cannon({ connections: third, duration: seconds, ...initRequests(initUrl, headers, prefix, 'http://127.0.0.1:9/x').options }),
      cannon({ connections: third, duration: seconds, ...detailsRequests(server.url, headers, seedIds, (id) => `/psp/v3/psppayments/${id}/details`) }),
      cannon({ connections: third, duration: seconds, url: `${server.url}/psp/v3/psppayments/updatestatus`, method: 'POST', headers, body: statusBody }),
    ]);
    process.stdout.write(`  mixed: init ${fmt(i)}; details ${fmt(d)}; updatestatus ${fmt(u)}; peak RSS ${server.peakRssMiB()} MiB\n`);
  }
} finally {
  await server.stop();
  await psp.stop();
}

if (profileDir) {
  const file = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f)).sort().at(-1);
  if (file) summarise(file);
}

function epaymentCreateBody(reference: string, callbackUrl: string): string {
  return JSON.stringify({
    amount: { currency: 'NOK', value: 49900 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return', paymentDescription: 'Benchmark',
    cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: callbackUrl, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'] },
  });
}

/** ePayment flows from `connections` clients for `seconds`: flows per second and each step's latency. */
async function epaymentFlows(base: string, headers: Record<string, string>, callbackUrl: string): Promise<string> {
  const agent = new Agent({ connections: connections * 2 });
  const body = (reference: string) => epaymentCreateBody(reference, callbackUrl);
  const post = async (path: string, b: string, key?: string) => {
    const r = await request(`${base}${path}`, { method: 'POST', headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) }, body: b, dispatcher: agent });
    await r.body.dump();
    return r.statusCode;
  };
  const steps = { create: [] as number[], approve: [] as number[], capture: [] as number[] };
  let n = 0;
  let done = 0;
  let failed = 0;
  const prefix = `q${randomBytes(3).toString('hex')}`;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < end) {
      const reference = `${prefix}-${++n}`;
      const timed = async (step: keyof typeof steps, run: () => Promise<number>, ok: number) => {
        const started = performance.now();
        const status = await run();
        steps[step].push(performance.now() - started);
        return status === ok;
      };
      if (!(await timed('create', () => post('/epayment/v1/payments', body(reference), reference), 201))
        || !(await timed('approve', () => post(`/epayment/v1/test/payments/${reference}/approve`, JSON.stringify({ customer: { phoneNumber: '92929292' } })), 200))
        || !(await timed('capture', () => post(`/epayment/v1/payments/${reference}/capture`, JSON.stringify({ modificationAmount: { currency: 'NOK', value: 49900 } }), `${reference}-c`), 200))) {
        failed++;
        continue;
      }
      done++;
    }
  }));
  await agent.close();
  const q = (a: number[], f: number) => (a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * f))] ?? 0).toFixed(1);
  const step = (k: keyof typeof steps) => `${k} p50 ${q(steps[k], 0.5)} ms, p99 ${q(steps[k], 0.99)} ms`;
  return `ePayment full flow: ${Math.round(done / seconds)} flows/s${failed ? `, ${failed} failed` : ''}; ${step('create')}; ${step('approve')}; ${step('capture')}`;
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }

/** Self time by package (or Node's internals, or this project's folder) and by function. */
function summarise(file: string): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, k) => {
    const t = p.timeDeltas[k] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += t;
    const where = url.includes('/node_modules/') ? url.replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
      : url.startsWith('node:') ? url.split('/')[0]
        : url.includes('/src/') ? `src/${url.replace(/.*\/src\/([^/]+).*/, '$1')}`
          : url === '' ? functionName || '(native)' : url;
    byPackage.set(where, (byPackage.get(where) ?? 0) + t);
    const file = url.includes('/node_modules/') ? url.replace(/.*\/node_modules\//, '') : url.replace(/.*\/(src|dist)\//, '$1/');
    const name = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + t);
  });
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, t]) => `  ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  process.stdout.write(`\nServer CPU profile (${Math.round(total / 1000)} ms sampled, start-up included): ${file}\n`);
  process.stdout.write(`By package:\n${top(byPackage, 20)}\nBy function (self time):\n${top(byFunction, 30)}\n`);
  process.stdout.write('(idle) is the event loop waiting; time in writev or write is mostly the process waiting for a core while the peer it woke (PostgreSQL, the load generator) runs.\n');
}
