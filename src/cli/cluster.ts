// WORKERS > 1: the primary process forks that many workers, each a whole server (with its own pool
// and background jobs, coordinated through PostgreSQL like any other processes), sharing one port.
// The primary prints the banner once every worker listens, replaces a worker that dies, and on
// SIGTERM/SIGINT stops them all gracefully before it exits.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.ts';
import type { AdminToken } from '../operations/admin-token.ts';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  type: 'vipps-psp:ready';
  url: string;
  database: string;
  generatedAdminToken?: string;
  adminTokenSource: AdminToken['source'];
}

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary that this worker listens. */
export function reportReady(ready: Omit<WorkerReady, 'type'>): void {
  process.send?.({ type: 'vipps-psp:ready', ...ready } satisfies WorkerReady);
}

export async function startPrimary(c: Config, printBanner: (ready: WorkerReady) => void): Promise<void> {
  // Every worker must listen on the same port and name it in PUBLIC_URL: a free one is picked here.
  const { freePort } = await import('../main.ts');
  const port = c.port === 0 ? await freePort(c.host) : c.port;
  const env: Record<string, string> = { PORT: String(port) };
  if (!c.publicUrlExplicit) env.PUBLIC_URL = `http://localhost:${port}`;

  // A scrape of /metrics reaches one worker, which asks here for every worker's figures.
  if (c.metrics) (await import('../observability/cluster-metrics.ts')).serveClusterMetrics();

  let stopping = false;
  let started = false;
  const workers = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork(env);
    workers.add(worker);
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping || !started) return;
      process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another\n`);
      fork();
    });
    return worker;
  };

  const ready: WorkerReady[] = [];
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < c.workers; i++) {
      const worker = fork();
      worker.on('message', (m: WorkerReady) => {
        if (m?.type !== 'vipps-psp:ready') return;
        ready.push(m);
        if (ready.length === c.workers) resolve();
      });
      // A worker that cannot start (a bad database, a busy port) stops the whole start.
      worker.once('exit', (code) => {
        if (ready.length < c.workers && !stopping) {
          stopping = true;
          for (const w of workers) w.process.kill('SIGTERM');
          reject(new Error(`a worker could not start (exit code ${code}); see its message above`));
        }
      });
    }
  });
  started = true;
  const generator = ready.find((r) => r.generatedAdminToken);
  printBanner(generator ? { ...ready[0], generatedAdminToken: generator.generatedAdminToken, adminTokenSource: 'generated' } : ready[0]);

  const stop = () => {
    if (stopping) return;
    stopping = true;
    const exits = [...workers].map((w) => new Promise<number>((resolve) => {
      if (w.isDead()) return resolve(w.process.exitCode ?? 0);
      // A worker still starting has no handler yet and ends by the signal itself: stopped all the same.
      w.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 0 : 1)));
      w.process.kill('SIGTERM');
    }));
    void Promise.all(exits).then((codes) => process.exit(codes.every((code) => code === 0) ? 0 : 1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
