// A real PSP on loopback that receives makePayment. Each request is recorded; the answer is chosen
// per pspTransactionId (or a default), so one stub serves every scenario of a test file.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
  at: number;
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'fail'; errorId: string; errorText: string }
  | { kind: 'soft-decline'; url3dSecure: string; then?: Behaviour }
  | { kind: 'status'; status: number; body: string; contentType?: string }
  | { kind: 'slow'; ms: number }
  /** Never answers; with `notifications`, TIMEOUT and USER_CANCEL get no answer either. */
  | { kind: 'hang'; notifications?: boolean };

export class PspStub {
  readonly calls: ReceivedCall[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private server!: http.Server;
  url = '';
  /** A minimal 3-D Secure page served by the stub: /3ds?return=<operations url>. */
  threeDsUrl = '';
  /** Base of a pspRedirectUrl that lands on the stub's "store" page; visits are recorded in storeVisits. */
  storeUrl = '';
  readonly storeVisits: string[] = [];
  defaultBehaviour: Behaviour = { kind: 'ok' };
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  static async start(): Promise<PspStub> {
    const stub = new PspStub();
    stub.server = http.createServer((req, res) => stub.handle(req, res));
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
    const { port } = stub.server.address() as AddressInfo;
    stub.url = `http://127.0.0.1:${port}/makepayment`;
    stub.threeDsUrl = `http://127.0.0.1:${port}/3ds`;
    stub.storeUrl = `http://127.0.0.1:${port}/store`;
    return stub;
  }

  /**
   * A url3dSecure for a payment: the stub's 3-D Secure page offers the operations URLs that the last
   * ACCEPTED makePayment of that payment carried ("Authenticate" → 3dssuccess, "Cancel" → 3dscancel,
   * "Fail" → 3dsfailure), as a PSP's page would redirect to them.
   */
  threeDsPageFor(pspTransactionId: string): string {
    return `${this.threeDsUrl}?tx=${encodeURIComponent(pspTransactionId)}`;
  }

  on(pspTransactionId: string, behaviour: Behaviour): void {
    this.behaviours.set(pspTransactionId, behaviour);
  }

  callsFor(pspTransactionId: string): ReceivedCall[] {
    return this.calls.filter((c) => c.body?.pspTransactionId === pspTransactionId);
  }

  /** Resolves when `count` calls for the payment have arrived (or rejects after `ms`). */
  async waitForCalls(pspTransactionId: string, count: number, ms = 10_000): Promise<ReceivedCall[]> {
    if (this.callsFor(pspTransactionId).length >= count) return this.callsFor(pspTransactionId);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} makePayment calls for ${pspTransactionId}, got ${this.callsFor(pspTransactionId).length}`)), ms);
      this.waiters.push({ check: () => this.callsFor(pspTransactionId).length >= count, resolve: () => { clearTimeout(timer); resolve(); } });
    });
    return this.callsFor(pspTransactionId);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/3ds')) return this.threeDsPage(req, res);
      if (req.url?.startsWith('/store')) {
        // The PSP's/merchant's result page (a pspRedirectUrl such as `${stub.storeUrl}/return?order=1`).
        this.storeVisits.push(req.url);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html lang="en"><title>Store</title><h1>Thank you for shopping with us</h1></html>');
        return;
      }
      let body: any;
      try { body = JSON.parse(raw); } catch { body = undefined; }
      this.calls.push({ headers: req.headers, body, raw, at: Date.now() });
      this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
      const id = body?.pspTransactionId as string | undefined;
      let behaviour = (id && this.behaviours.get(id)) || this.defaultBehaviour;
      if (behaviour.kind === 'soft-decline' && id && this.callsFor(id).filter((c) => c.body?.paymentState === 'ACCEPTED').length > 1) {
        behaviour = behaviour.then ?? { kind: 'ok' };
      }
      this.answer(res, behaviour, id, body?.paymentState);
    });
  }

  /** /3ds?return=<url>: one link to <url>; /3ds?tx=<pspTransactionId>: links to that payment's operations URLs. */
  private threeDsPage(req: http.IncomingMessage, res: http.ServerResponse): void {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const links: Array<[string, string]> = [];
    const tx = params.get('tx');
    if (tx) {
      const accepted = this.callsFor(tx).filter((c) => c.body?.paymentState === 'ACCEPTED').at(-1);
      const ops: Array<{ url: string; operation: string }> = accepted?.body?.operations ?? [];
      const label: Record<string, string> = { '3dssuccess': 'Authenticate', '3dscancel': 'Cancel', '3dsfailure': 'Fail' };
      for (const op of ops) if (label[op.operation]) links.push([label[op.operation], op.url]);
    } else {
      links.push(['Complete', params.get('return') ?? '']);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><title>3DS</title><h1>Bank 3-D Secure</h1><p>Confirm the payment with your bank.</p>`
      + links.map(([text, url]) => `<p><a href="${esc(url)}">${esc(text)}</a></p>`).join('') + '</html>');
  }

  private answer(res: http.ServerResponse, b: Behaviour, id: string | undefined, state: string | undefined): void {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if ((state === 'USER_CANCEL' || state === 'TIMEOUT') && !(b.kind === 'hang' && b.notifications)) {
      return json(200, { paymentInfo: { pspTransactionId: id, status: 'FAIL' }, errorMessage: { errorId: '93', errorText: `Status from Vipps:${state === 'TIMEOUT' ? 'TIMEOUT' : 'CANCEL'}` } });
    }
    switch (b.kind) {
      case 'ok': return json(200, { paymentInfo: { pspTransactionId: id, status: 'OK' } });
      case 'fail': return json(200, { paymentInfo: { pspTransactionId: id, status: 'FAIL' }, errorMessage: { errorId: b.errorId, errorText: b.errorText } });
      case 'soft-decline': return json(200, { paymentInfo: { pspTransactionId: id, status: 'SOFT_DECLINE', url3dSecure: b.url3dSecure } });
      case 'status':
        res.writeHead(b.status, { 'content-type': b.contentType ?? 'text/html' });
        return void res.end(b.body);
      case 'slow':
        setTimeout(() => json(200, { paymentInfo: { pspTransactionId: id, status: 'OK' } }), b.ms);
        return;
      case 'hang':
        return;
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
