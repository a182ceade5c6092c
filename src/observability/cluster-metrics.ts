// Metrics with WORKERS > 1: a scrape reaches one worker, which asks the primary for the whole
// server's figures. The primary gathers every worker's registry (prom-client's AggregatorRegistry,
// over the cluster's IPC channel) and answers with their aggregate: counters and histograms summed,
// the gauges read from the shared database taken once (aggregator 'first'), the pool gauges summed.
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

interface MetricsRequest { type: 'vipps-psp:metrics-request'; id: number }
interface MetricsAnswer { type: 'vipps-psp:metrics-answer'; id: number; text?: string; error?: string }

/** How long a worker waits for the primary (which gives the workers 5 s to answer it). */
const WAIT_MS = 6_000;

/**
 * In a worker: hands `registry` to the primary's gatherings and returns the function that reads the
 * whole server's metrics through the primary.
 */
export function clusterMetricsReader(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's answer to the primary's requests in this worker.
  new AggregatorRegistry();
  let nextId = 0;
  const waiting = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();
  process.on('message', (m: MetricsAnswer) => {
    if (m?.type !== 'vipps-psp:metrics-answer') return;
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.text !== undefined) w.resolve(m.text);
    else w.reject(new Error(m.error ?? 'no answer'));
  });
  return () => new Promise<string>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the primary process did not answer within ${WAIT_MS} ms`));
    }, WAIT_MS);
    waiting.set(id, {
      resolve: (text) => { clearTimeout(timer); resolve(text); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
    process.send?.({ type: 'vipps-psp:metrics-request', id } satisfies MetricsRequest);
  });
}

/** In the primary: answers each worker's request with the aggregate of every worker's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, m: MetricsRequest) => {
    if (m?.type !== 'vipps-psp:metrics-request') return;
    const answer = (a: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: 'vipps-psp:metrics-answer', id: m.id, ...a } satisfies MetricsAnswer);
    };
    aggregator.clusterMetrics().then((text) => answer({ text }), (e: Error) => answer({ error: e.message }));
  });
}
