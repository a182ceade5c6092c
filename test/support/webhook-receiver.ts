// A PSP's webhook endpoint on loopback: it verifies every delivery's HMAC signature with the secret of
// its registration (the published algorithm, from the raw body, the path and query and the Host
// header) and records it. Its answer can be set: 200 (default), another status, or no answer at all.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRequest } from '../../src/security/request-signature.ts';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
  signatureProblem: string | undefined;
  at: number;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** The registration's secret; set once the registration answered. */
  secret = '';
  /** The status of the next answers: a number, or 'hang' to never answer. */
  answer: number | 'hang' = 200;
  /** Answer these statuses first, one per delivery, then `answer`. */
  readonly script: Array<number | 'hang'> = [];
  url = '';
  private server!: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();
  private waiters: Array<() => void> = [];

  static async start(path = '/webhooks/vipps'): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    r.server = http.createServer((req, res) => r.handle(req, res));
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}${path}`;
    return r;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: any;
      try { body = JSON.parse(raw.toString('utf8')); } catch { body = undefined; }
      const signatureProblem = verifyRequest({ method: req.method ?? '', pathAndQuery: req.url ?? '', headers: req.headers, body: raw }, this.secret);
      this.received.push({ path: req.url ?? '', headers: req.headers, body, raw: raw.toString('utf8'), signatureProblem, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
      const status = this.script.length > 0 ? this.script.shift()! : this.answer;
      if (status === 'hang') { this.hanging.add(res); return; }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
    });
  }

  /** Waits until `n` deliveries have arrived (or `ms` passed). */
  async until(n: number, ms = 10_000): Promise<Received[]> {
    const end = Date.now() + ms;
    while (this.received.length < n && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
