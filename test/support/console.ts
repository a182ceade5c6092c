// A small browser for the operator console's black-box tests: keeps cookies, reads each page's form
// token, follows nothing by itself (redirects are answers to look at).
import { ADMIN_TOKEN, fetchFrom } from './server.ts';

export interface Page {
  status: number;
  headers: Headers;
  html: string;
  /** The Location of a redirect. */
  location: string | null;
}

export class ConsoleBrowser {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  /** The form token of the last page that had one. */
  csrf = '';

  private readonly send: typeof fetch;

  /** `from`: the loopback address its connections come from (default: the system's choice, 127.0.0.1). */
  constructor(base: string, opts: { from?: string } = {}) {
    this.base = base;
    this.send = opts.from === undefined ? fetch : fetchFrom(opts.from);
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(response: Response): void {
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, opts: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    }
    const response = await this.send(`${this.base}${path}`, { method, headers, body, redirect: 'manual' });
    this.keep(response);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html);
    if (token) this.csrf = token[1];
    return { status: response.status, headers: response.headers, html, location: response.headers.get('location') };
  }

  get(path: string, headers?: Record<string, string>): Promise<Page> {
    return this.request('GET', path, { headers });
  }

  /** Posts a form with the last page's token (unless the fields carry their own `_csrf`). */
  post(path: string, fields: Record<string, string> = {}): Promise<Page> {
    return this.request('POST', path, { form: { _csrf: this.csrf, ...fields } });
  }

  /** Signs in with the operator token; throws unless the console answers with the redirect. */
  async signIn(token = ADMIN_TOKEN): Promise<void> {
    await this.get('/console/sign-in');
    const answer = await this.post('/console/sign-in', { token });
    if (answer.status !== 303) throw new Error(`sign-in failed: ${answer.status} ${answer.html.slice(0, 300)}`);
    await this.get('/console');
  }
}

/** A signed-in console browser. */
export async function signedIn(base: string): Promise<ConsoleBrowser> {
  const browser = new ConsoleBrowser(base);
  await browser.signIn();
  return browser;
}

/** The text of a page without its tags, spaces folded: for assertions on what a person reads. */
export function textOf(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ').trim();
}
