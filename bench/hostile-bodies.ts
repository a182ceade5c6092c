// What hostile updatestatus bodies cost the server: each shape at the route's size limit once, then
// four at once while /health is polled. Prints the time to the answer, the server's peak resident
// memory growth, and /health latency during the four. Also a valid request of the documented
// maximum of 50,000 updates, for comparison.
import { writeFileSync } from 'node:fs';
import { Agent } from 'undici';
import { MAX_STATUS_BODY_BYTES, MAX_TRANSACTIONS } from '../src/domain/psp-v3/status-payload.ts';
import { pspHeaders, row, startBenchServer } from './common.ts';
import { fill, HOSTILE_SHAPES } from '../test/support/hostile-bodies.ts';

const LIMIT = MAX_STATUS_BODY_BYTES;
const WRAPPER = '{"transactions":}'.length;

const SHAPES: Record<string, (size: number) => string> = {
  ...HOSTILE_SHAPES,
  'whitespace, then not JSON': (size) => fill(size, '[', 'x', 1, (n) => ' '.repeat(n)),
};

function body(shape: string, size = LIMIT): Buffer {
  return Buffer.from(`{"transactions":${SHAPES[shape](size - WRAPPER)}}`);
}

function validMaximum(): Buffer {
  const transactions = Array.from({ length: MAX_TRANSACTIONS }, (_, i) => ({
    pspTransactionId: `bench-${String(i).padStart(30, '0')}`, status: 'CANCELLED', amount: '-2147483648', currency: 'NOK',
    paymentText: '€'.repeat(100), operationStatus: 'SUCCESS',
  }));
  return Buffer.from(JSON.stringify({ transactions }, null, 2));
}

const server = await startBenchServer();
const headers = await pspHeaders(server.url);
const url = `${server.url}/psp/v3/psppayments/updatestatus`;

/** Resets the kernel's peak-RSS mark of the server, so the next peak belongs to what follows (Linux). */
function resetPeak(): void {
  try { writeFileSync(`/proc/${server.pid}/clear_refs`, '5'); } catch { /* peaks stay cumulative */ }
}

async function post(payload: Buffer): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers, body: payload });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

/** Sends `payloads` at once while polling /health; prints statuses, the slowest answer, peak RSS growth, /health latency. */
async function measure(label: string, payloads: Buffer[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = server.rssMiB();
  resetPeak();
  const latencies: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      try {
        const r = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(30_000) });
        await r.text();
        latencies.push(performance.now() - started);
      } catch {
        latencies.push(Infinity);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const answers = await Promise.all(payloads.map(post));
  polling = false;
  await poller;
  const alive = (await fetch(`${server.url}/health`).then((r) => r.status).catch(() => 0)) === 200;
  latencies.sort((a, b) => a - b);
  const statuses = [...new Set(answers.map((a) => a.status))].join('/');
  const slowest = Math.max(...answers.map((a) => a.ms));
  row(label, `${statuses} in ${Math.round(slowest)} ms | peak RSS +${server.peakRssMiB() - before} MiB | `
    + `/health max ${Math.round(latencies.at(-1) ?? 0)} ms, p50 ${Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0)} ms (${latencies.length} polls)${alive ? '' : ' | SERVER DOWN'}`);
}

try {
  process.stdout.write(`hostile updatestatus bodies on ${server.backend}; limit ${LIMIT / 1024 / 1024} MiB; server RSS at start ${server.rssMiB()} MiB\n`);
  process.stdout.write('(time: sending the body and getting the answer, over loopback)\n');
  for (const shape of Object.keys(SHAPES)) await measure(shape, [body(shape)]);
  await measure('one byte over the limit', [Buffer.concat([body('a long string'), Buffer.from(' ')])]);
  await measure('four at once: numbers, nesting, keys, lists', ['a flat list of numbers', 'deep nesting', 'many keys', 'lists of lists of numbers'].map((s) => body(s)));
  await measure('four at once: long strings', ['a long string', 'a long string of two-byte characters', 'a long string of escapes', 'a long string'].map((s) => body(s)));
  const valid = validMaximum();
  await measure(`valid: ${MAX_TRANSACTIONS.toLocaleString('en')} updates, ${(valid.length / 1024 / 1024).toFixed(1)} MiB`, [valid]);
} finally {
  await server.stop();
}
