// A PSP's card callback endpoint on loopback, as a PSP builds it: every request's HMAC signature is
// verified with the PSP's client secret (the published algorithm, from the raw body, the path and query
// requested and the Host header), and recorded with the outcome. The answer is chosen per
// cardPassthrough.pspReference (or a default): RESERVE, FAIL, SOFT_DECLINE, an HTTP status, a delay.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRequest } from '../../src/security/request-signature.ts';

export interface CallbackCall {
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
  path: string;
  /** Why the signature does not verify; undefined when it does. */
  signatureProblem: string | undefined;
}

export type CallbackBehaviour =
  | { kind: 'reserve'; networkTransactionReference?: string }
  | { kind: 'fail'; errorCode?: number; errorMessage?: string }
  | { kind: 'soft-decline'; softDeclineUrl?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'slow'; ms: number; then?: CallbackBehaviour }
  /** Each call takes the next behaviour; the last one repeats. */
  | { kind: 'sequence'; steps: CallbackBehaviour[] };

export class CardCallbackStub {
  readonly calls: CallbackCall[] = [];
  private readonly behaviours = new Map<string, CallbackBehaviour>();
  defaultBehaviour: CallbackBehaviour = { kind: 'reserve', networkTransactionReference: 'ntr-0001' };
  private server!: http.Server;
  url = '';
  /** Base of a returnUrl that lands on the stub's "store" page; visits are recorded in storeVisits. */
  storeUrl = '';
  readonly storeVisits: string[] = [];
  private base = '';
  /** The PSP's client secret the signatures are checked with (a test that rotates it sets the new one). */
  secret: string;

  private constructor(secret: string) {
    this.secret = secret;
  }

  static async start(secret: string): Promise<CardCallbackStub> {
    const stub = new CardCallbackStub(secret);
    stub.server = http.createServer((req, res) => stub.handle(req, res));
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
    const { port } = stub.server.address() as AddressInfo;
    stub.base = `http://127.0.0.1:${port}`;
    stub.url = `${stub.base}/psp-callback?acquirer=test`;
    stub.storeUrl = `${stub.base}/store`;
    return stub;
  }

  on(pspReference: string, behaviour: CallbackBehaviour): void {
    this.behaviours.set(pspReference, behaviour);
  }

  callsFor(pspReference: string): CallbackCall[] {
    return this.calls.filter((c) => c.body?.pspReference === pspReference);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') return this.page(req, res);
      const rawBytes = Buffer.concat(chunks);
      const raw = rawBytes.toString('utf8');
      let body: any;
      try { body = JSON.parse(raw); } catch { body = undefined; }
      const signatureProblem = verifyRequest({ method: req.method ?? '', pathAndQuery: req.url ?? '', headers: req.headers, body: rawBytes }, this.secret);
      const call = { headers: req.headers, body, raw, path: req.url ?? '', signatureProblem };
      this.calls.push(call);
      const ref = body?.pspReference as string | undefined;
      let behaviour = (ref && this.behaviours.get(ref)) || this.defaultBehaviour;
      const nth = ref ? this.callsFor(ref).length - 1 : 0;
      if (behaviour.kind === 'sequence') behaviour = behaviour.steps[Math.min(nth, behaviour.steps.length - 1)];
      this.answer(res, behaviour, body?.authorizationAttemptId);
    });
  }

  /**
   * The PSP's pages: /3ds?attempt=<authorizationAttemptId>, a 3-D Secure page whose "Complete" link is
   * the softDeclineCompletedRedirectUrl of that attempt's callback; /store…, the merchant's page.
   */
  private page(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en">${body}</html>`);
    };
    if (url.pathname === '/3ds') {
      const call = this.calls.find((c) => c.body?.authorizationAttemptId === url.searchParams.get('attempt'));
      const back = String(call?.body?.softDeclineCompletedRedirectUrl ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      return html(`<title>3DS</title><h1>Bank 3-D Secure</h1><p>Confirm the payment with your bank.</p><p><a href="${back}">Complete</a></p>`);
    }
    if (url.pathname.startsWith('/store')) {
      this.storeVisits.push(url.pathname + url.search);
      return html('<title>Store</title><h1>Thank you for shopping with us</h1>');
    }
    res.writeHead(404);
    res.end();
  }

  private answer(res: http.ServerResponse, b: CallbackBehaviour, attemptId?: string): void {
    const json = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    switch (b.kind) {
      case 'reserve': return json({ status: 'RESERVE', networkTransactionReference: b.networkTransactionReference ?? 'ntr-0001' });
      case 'fail': return json({ status: 'FAIL', ...(b.errorCode === undefined ? {} : { errorCode: b.errorCode }), errorMessage: b.errorMessage ?? 'Refused by Issuer' });
      case 'soft-decline': return json({ status: 'SOFT_DECLINE', softDeclineUrl: b.softDeclineUrl ?? `${this.base}/3ds?attempt=${attemptId ?? ''}` });
      case 'status':
        res.writeHead(b.status, { 'content-type': 'text/plain' });
        return void res.end(b.body ?? 'error');
      case 'slow':
        setTimeout(() => this.answer(res, b.then ?? { kind: 'reserve' }, attemptId), b.ms);
        return;
      case 'sequence':
        return this.answer(res, b.steps[0], attemptId);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
