// npm run bench:auth-flood — what a flood of wrong client secrets costs real traffic. Two phases on
// one server: without a flood, then with one. Each measures full flows (init → approve → makePayment
// to a PSP on loopback → RESERVED) and valid token requests, and prints p50/p99 for both phases.
//   BENCH_SECONDS        length of each phase (default 10)
//   BENCH_CONNECTIONS    concurrent flows (default 2: latency, not throughput)
//   BENCH_FLOOD_RATE     wrong-secret requests per second in the second phase (default 50)
//   BENCH_FLOOD          one-client (wrong secrets for the demo client_id, default) or many-clients
//                        (a new random client_id each time)
//   BENCH_LIMITS=off     run the server with AUTH_FAILURE_LIMIT_PER_CLIENT=0 and _PER_ADDRESS=0,
//                        to see what the flood costs without the limits
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { DEMO, initPayload, pspHeaders, row, startBenchServer, startOkPsp } from './common.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONNECTIONS ?? 2);
const floodRate = Number(process.env.BENCH_FLOOD_RATE ?? 50);
const floodKind = process.env.BENCH_FLOOD === 'many-clients' ? 'many-clients' : 'one-client';
const limitsOff = process.env.BENCH_LIMITS === 'off';

interface Phase {
  flows: number[];
  tokens: number[];
  failed: number;
  flood: Record<string, number>;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]);
}

function summary(latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `p50 ${String(percentile(sorted, 0.5)).padStart(4)} ms   p99 ${String(percentile(sorted, 0.99)).padStart(4)} ms   (${sorted.length})`;
}

const psp = await startOkPsp();
const server = await startBenchServer(limitsOff ? { AUTH_FAILURE_LIMIT_PER_CLIENT: '0', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0' } : {});
const agent = new Agent({ connections: concurrency + 4 });
const floodAgent = new Agent({ connections: 256 });
try {
  const headers = await pspHeaders(server.url);
  const tokenHeaders = { client_id: DEMO.clientId, client_secret: DEMO.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.subscriptionKey };
  const prefix = `af${Date.now().toString(36)}`;
  let n = 0;

  /** One full flow; its latency in ms, or undefined when a step did not answer 200. */
  const flow = async (): Promise<number | undefined> => {
    const id = `${prefix}${++n}`;
    const started = performance.now();
    const init = await request(`${server.url}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, psp.url), dispatcher: agent });
    const body = (await init.body.json()) as { vippsRedirectUrl?: string };
    if (init.statusCode !== 200 || !body.vippsRedirectUrl) return undefined;
    const token = new URL(body.vippsRedirectUrl).searchParams.get('token');
    const approve = await request(`${server.url}/psp/v3/integration-test/psppayments/${id}/approve`, {
      method: 'POST', headers, body: JSON.stringify({ customerPhoneNumber: '92929292', token }), dispatcher: agent,
    });
    await approve.body.dump();
    return approve.statusCode === 200 ? performance.now() - started : undefined;
  };

  const wrongSecret = async (): Promise<string> => {
    try {
      const answer = await request(`${server.url}/accessToken/get`, {
        method: 'POST',
        headers: {
          client_id: floodKind === 'many-clients' ? randomUUID() : DEMO.clientId,
          client_secret: `wrong-${randomUUID()}`,
          'Ocp-Apim-Subscription-Key': DEMO.subscriptionKey,
        },
        dispatcher: floodAgent,
      });
      await answer.body.dump();
      return String(answer.statusCode);
    } catch {
      return 'error';
    }
  };

  const phase = async (duration: number, flooding: boolean): Promise<Phase> => {
    const result: Phase = { flows: [], tokens: [], failed: 0, flood: {} };
    const end = Date.now() + duration * 1000;
    // The flood does not wait for its answers: one request every 1/rate s, as an attacker sends them.
    const pending: Promise<void>[] = [];
    const flood = flooding
      ? setInterval(() => {
          pending.push(wrongSecret().then((status) => { result.flood[status] = (result.flood[status] ?? 0) + 1; }));
        }, 1000 / floodRate)
      : undefined;
    const flows = async () => {
      while (Date.now() < end) {
        const ms = await flow();
        if (ms === undefined) result.failed++;
        else result.flows.push(ms);
      }
    };
    // A valid client asking for a token five times a second, as one that fetches a token per request would.
    const tokens = async () => {
      while (Date.now() < end) {
        const started = performance.now();
        const answer = await request(`${server.url}/accessToken/get`, { method: 'POST', headers: tokenHeaders, dispatcher: agent });
        await answer.body.dump();
        if (answer.statusCode === 200) result.tokens.push(performance.now() - started);
        else result.failed++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await Promise.all([...Array.from({ length: concurrency }, flows), tokens()]);
    if (flood) clearInterval(flood);
    await Promise.all(pending);
    return result;
  };

  process.stdout.write(`vipps-psp auth-flood benchmark on ${server.backend}, ${concurrency} concurrent flows, ${seconds} s per phase, `
    + `flood ${floodRate} req/s (${floodKind}), failed-attempt limits ${limitsOff ? 'off' : 'on (defaults)'}\n`);
  await phase(2, false); // warm-up
  const quiet = await phase(seconds, false);
  const flooded = await phase(seconds, true);
  row('init → approve → RESERVED, no flood', summary(quiet.flows));
  row('init → approve → RESERVED, during the flood', summary(flooded.flows));
  row('valid /accessToken/get, no flood', summary(quiet.tokens));
  row('valid /accessToken/get, during the flood', summary(flooded.tokens));
  const ratio = (q: number) => {
    const a = [...quiet.flows].sort((x, y) => x - y);
    const b = [...flooded.flows].sort((x, y) => x - y);
    return (percentile(b, q) / Math.max(1, percentile(a, q))).toFixed(2);
  };
  row('flow latency, flood / no flood', `p50 ×${ratio(0.5)}   p99 ×${ratio(0.99)}`);
  const answers = Object.entries(flooded.flood).sort().map(([status, count]) => `${status}: ${count}`).join(', ');
  row('flood answers', `${answers}   (${Math.round(Object.values(flooded.flood).reduce((a, b) => a + b, 0) / seconds)} req/s)`);
  row('failed valid requests (both phases)', String(quiet.failed + flooded.failed));
} finally {
  await agent.close();
  await floodAgent.close();
  await server.stop();
  await psp.stop();
}
