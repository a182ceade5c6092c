// A TCP proxy on loopback that a test can cut and restore, to take a server's database away and give
// it back without touching the database server itself. cut() resets every open connection (both
// sides) and resets new ones as they arrive; restore() lets new connections through again.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private readonly server: net.Server;
  private readonly target: { host: string; port: number };
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private isCut = false;
  /** Connections accepted and forwarded so far. */
  forwarded = 0;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.target = target;
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  /** Open connections through the proxy. */
  get open(): number {
    return this.pairs.size;
  }

  get cutOff(): boolean {
    return this.isCut;
  }

  private accept(client: net.Socket): void {
    if (this.isCut) {
      client.resetAndDestroy();
      return;
    }
    this.forwarded += 1;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Breaks every open connection (a reset to the client, a close to the database) and refuses new ones. */
  cut(): void {
    this.isCut = true;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      pair.upstream.destroy();
      if (!pair.client.destroyed) pair.client.resetAndDestroy();
    }
  }

  /** Lets new connections through again. */
  restore(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
