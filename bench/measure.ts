// The measurements the benchmarks share: a fixed-duration autocannon load, the full payment flow,
// and the status batch at scale. Each returns its figures; the scripts print them.
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { ADMIN_TOKEN, initPayload } from './common.ts';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Requests that failed or answered other than 2xx. */
  bad: number;
}

export async function cannon(opts: autocannon.Options): Promise<LoadResult> {
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors };
}

/** init with a new pspTransactionId per request; the ids it used are `${prefix}1` … `${prefix}${count()}`. */
export function initRequests(url: string, headers: Record<string, string>, prefix: string, makePaymentUrl: string) {
  let n = 0;
  return {
    count: () => n,
    options: {
      url,
      method: 'POST' as const,
      headers,
      requests: [{
        setupRequest: (req: autocannon.Request) => {
          n += 1;
          return { ...req, body: initPayload(`${prefix}${n}`, makePaymentUrl) };
        },
      }],
    },
  };
}

/** details of the given ids, round robin; `path(id)` builds the request path. */
export function detailsRequests(base: string, headers: Record<string, string>, ids: string[], path: (id: string) => string) {
  let k = 0;
  return {
    url: base,
    method: 'GET' as const,
    headers,
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: path(ids[(k++) % ids.length]) }) }],
  };
}

export interface FlowResult {
  flowsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
}

/** Full flows: init → force approve (what the user's approval does) → makePayment → RESERVED. */
export async function flows(base: string, headers: Record<string, string>, makePaymentUrl: string, seconds: number, concurrency: number): Promise<FlowResult> {
  const agent = new Agent({ connections: concurrency * 2 });
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
      const init = await request(`${base}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, makePaymentUrl), dispatcher: agent });
      const body = (await init.body.json()) as { vippsRedirectUrl?: string };
      if (init.statusCode !== 200 || !body.vippsRedirectUrl) { failed++; continue; }
      const token = new URL(body.vippsRedirectUrl).searchParams.get('token');
      const approve = await request(`${base}/psp/v3/integration-test/psppayments/${id}/approve`, {
        method: 'POST', headers, body: JSON.stringify({ customerPhoneNumber: '92929292', token }), dispatcher: agent,
      });
      await approve.body.dump();
      if (approve.statusCode !== 200) { failed++; continue; }
      latencies.push(performance.now() - started);
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close();
  }
  latencies.sort((a, b) => a - b);
  const p = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0);
  return { flowsPerSecond: Math.round(done / seconds), p50: p(0.5), p99: p(0.99), failed };
}

export interface BatchResult {
  /** Median time of one 10,000-transaction updatestatus request. */
  ingestMedianMs: number;
  ingestTransactionsPerSecond: number;
  batchSeconds: number;
  applied: number;
  rejected: number;
}

/** Stores `total` status updates over `paymentCount` payments, then runs the batch once. */
export async function batch(base: string, headers: Record<string, string>, total: number, paymentCount: number): Promise<BatchResult> {
  const ids: string[] = [];
  const prefix = `bb${Date.now().toString(36)}`;
  for (let i = 0; i < paymentCount; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, paymentCount - i) }, async (_, j) => {
      const id = `${prefix}${i + j}`;
      const r = await fetch(`${base}/psp/v3/psppayments/init`, { method: 'POST', headers, body: initPayload(id, 'http://127.0.0.1:9/x', 10_000_000) });
      if (r.status !== 200) throw new Error(`init ${r.status} ${await r.text()}`);
      ids.push(id);
    }));
  }
  // One RESERVED per payment first (the reservation "happened elsewhere"), then captures of 1 øre.
  const updates = [
    ...ids.map((id) => ({ pspTransactionId: id, status: 'RESERVED', amount: 10_000_000 })),
    ...Array.from({ length: total - ids.length }, (_, i) => ({ pspTransactionId: ids[i % ids.length], status: 'CAPTURED', amount: 1 })),
  ];
  const times: number[] = [];
  for (let i = 0; i < updates.length; i += 10_000) {
    const body = JSON.stringify({ transactions: updates.slice(i, i + 10_000) });
    const started = performance.now();
    const r = await fetch(`${base}/psp/v3/psppayments/updatestatus`, { method: 'POST', headers, body });
    times.push(performance.now() - started);
    if (r.status !== 200) throw new Error(`updatestatus ${r.status} ${(await r.text()).slice(0, 300)}`);
  }
  const ingestTotalMs = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  const run = await fetch(`${base}/admin/status-batch/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const summary = (await run.json()) as { applied: number; rejected: number; durationMs: number };
  return {
    ingestMedianMs: Math.round(times[Math.floor(times.length / 2)]),
    ingestTransactionsPerSecond: Math.round(updates.length / (ingestTotalMs / 1000)),
    batchSeconds: summary.durationMs / 1000,
    applied: summary.applied,
    rejected: summary.rejected,
  };
}
