// The front door, GET /: a page for browsers and a JSON index for clients that ask for JSON, with the
// same facts (what the server is, its version and environment, where everything is); the demo
// credentials and a working curl only in the test environment; every interpolated value escaped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEMO, startTestServer, type TestServer } from '../support/server.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

const LINKS: Record<string, string> = {
  guide: '/guide',
  docs: '/docs',
  pspApi: '/openapi/psp-api.yaml',
  signupApi: '/openapi/psp-signup-api.yaml',
  epaymentApi: '/openapi/epayment.yaml',
  webhooksApi: '/openapi/webhooks.yaml',
  recurringApi: '/openapi/recurring.yaml',
  adminApi: '/openapi/admin.json',
  appSimulator: '/app',
  console: '/console',
  health: '/health',
  ready: '/ready',
};

const SECRETS = [DEMO.psp.pspId, DEMO.psp.subscriptionKey, DEMO.psp.clientId, DEMO.psp.clientSecret];

async function get(base: string, accept?: string, method = 'GET'): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${base}/`, { method, headers: accept === undefined ? {} : { accept } });
  return { response, text: await response.text() };
}

/** The text of an HTML fragment as a browser shows it (tags dropped, the escapes the templates write undone). */
function textOf(html: string): string {
  return html.replace(/<[^>]*>/g, '')
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function assertPageHeaders(response: Response): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(response.headers.get('x-frame-options'), 'DENY');
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(response.headers.get('cache-control'), 'no-store');
}

describe('the front door in the test environment', () => {
  let server: TestServer;
  let publicUrl: string;

  before(async () => {
    server = await startTestServer();
    publicUrl = server.services.config.publicUrl;
  });
  after(async () => {
    await server.close();
  });

  it('a browser gets a page: what the server is, its environment, every link, with the pages\' headers', async () => {
    const { response, text } = await get(server.url, BROWSER_ACCEPT);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.match(response.headers.get('vary') ?? '', /\bAccept\b/i);
    assertPageHeaders(response);
    assert.match(text, /<h1>vipps-psp<\/h1>/);
    assert.match(text, /self-hostable implementation of the wallet side of Vipps MobilePay&#39;s PSP APIs/);
    assert.match(text, /test environment/);
    assert.ok(text.includes(`Version ${PACKAGE.version}`));
    for (const path of Object.values(LINKS)) assert.ok(text.includes(`<a href="${path}">`), path);
    // Only this server's own script and stylesheet; nothing inline.
    assert.doesNotMatch(text, /<script(?![^>]*\bsrc="\/assets\/)/);
    assert.doesNotMatch(text, /<style|\sstyle=|\son[a-z]+=/i);
  });

  it('the page shows the demo credentials and a curl that fetches an access token as printed', async () => {
    const { text } = await get(server.url, BROWSER_ACCEPT);
    for (const value of [...SECRETS, DEMO.msn, DEMO.merchantName, DEMO.userPhone]) assert.ok(text.includes(value), value);
    const pre = /<pre class="code" id="token-curl"><code>([\s\S]*?)<\/code><\/pre>/.exec(text);
    assert.ok(pre, 'the curl is on the page');
    const curl = textOf(pre[1]);
    const url = /^curl -X POST (\S+) \\$/m.exec(curl)?.[1];
    assert.equal(url, `${publicUrl}/accessToken/get`);
    const headers = Object.fromEntries([...curl.matchAll(/-H "([^:]+): ([^"]+)"/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.keys(headers).sort(), ['Ocp-Apim-Subscription-Key', 'client_id', 'client_secret']);
    const token = await fetch(url, { method: 'POST', headers, body: '' });
    assert.equal(token.status, 200, await token.clone().text());
    assert.equal(typeof ((await token.json()) as { access_token?: unknown }).access_token, 'string');
  });

  it('a client that asks for JSON gets the same facts, with absolute links on PUBLIC_URL', async () => {
    const { response, text } = await get(server.url, 'application/json');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(response.headers.get('vary') ?? '', /\bAccept\b/i);
    const index = JSON.parse(text);
    assert.equal(index.name, 'vipps-psp');
    assert.equal(index.version, PACKAGE.version);
    assert.equal(index.environment, 'test');
    assert.match(index.description, /PSP API v3, the ePayment API with card passthrough, the Webhooks API and the Recurring PSP API/);
    assert.deepEqual(index.links, {
      self: `${publicUrl}/`,
      ...Object.fromEntries(Object.entries(LINKS).map(([key, path]) => [key, `${publicUrl}${path}`])),
    });
    assert.deepEqual(index.demo, {
      pspId: DEMO.psp.pspId,
      subscriptionKey: DEMO.psp.subscriptionKey,
      clientId: DEMO.psp.clientId,
      clientSecret: DEMO.psp.clientSecret,
      merchantSerialNumber: DEMO.msn,
      merchantName: DEMO.merchantName,
      testUserPhone: DEMO.userPhone,
      accessTokenCurl: index.demo.accessTokenCurl,
    });
    assert.ok(index.demo.accessTokenCurl.startsWith(`curl -X POST ${publicUrl}/accessToken/get`));
    // The curl is the page's curl.
    const page = await get(server.url, BROWSER_ACCEPT);
    assert.ok(textOf(page.text).includes(index.demo.accessTokenCurl));
  });

  it('HTML unless the Accept header prefers JSON', async () => {
    const cases: Array<[string | undefined, 'html' | 'json']> = [
      [undefined, 'html'],
      ['*/*', 'html'],
      [BROWSER_ACCEPT, 'html'],
      ['text/html', 'html'],
      ['text/*', 'html'],
      ['application/json', 'json'],
      ['Application/JSON; charset=utf-8', 'json'],
      ['application/*', 'json'],
      ['application/json, text/html;q=0.5', 'json'],
      ['text/html;q=0.5, application/json', 'json'],
      ['application/json;q=0.9, */*', 'html'],
      ['text/html, application/json', 'html'],
      ['application/json;q=0', 'html'],
      ['application/json;q=0.1, text/html;q=0', 'json'],
      ['image/png', 'html'],
      ['garbage;;;,,=', 'html'],
    ];
    for (const [accept, expected] of cases) {
      const { response } = await get(server.url, accept);
      assert.equal(response.status, 200, String(accept));
      const type = response.headers.get('content-type') ?? '';
      assert.match(type, expected === 'json' ? /^application\/json/ : /^text\/html/, String(accept));
    }
  });

  it('HEAD / answers with the headers of GET / and no body, in either form', async () => {
    for (const [accept, type] of [[BROWSER_ACCEPT, /^text\/html/], ['application/json', /^application\/json/]] as const) {
      const { response, text } = await get(server.url, accept, 'HEAD');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', type);
      assert.match(response.headers.get('vary') ?? '', /\bAccept\b/i);
      assert.equal(text, '');
      const full = await get(server.url, accept);
      assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(full.text)));
    }
    assertPageHeaders((await get(server.url, BROWSER_ACCEPT, 'HEAD')).response);
  });
});

describe('the front door in production', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ VIPPS_ENV: 'production' });
  });
  after(async () => {
    await server.close();
  });

  it('says production, links everything and shows no credentials, in HTML or JSON', async () => {
    const { response, text } = await get(server.url, BROWSER_ACCEPT);
    assert.equal(response.status, 200);
    assertPageHeaders(response);
    assert.match(text, /production environment/);
    for (const path of Object.values(LINKS)) assert.ok(text.includes(`<a href="${path}">`), path);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), secret);
    assert.doesNotMatch(text, /Demo credentials|curl |accessToken\/get/);

    const json = await get(server.url, 'application/json');
    const index = JSON.parse(json.text);
    assert.equal(index.environment, 'production');
    assert.equal(index.demo, undefined);
    assert.equal(Object.keys(index.links).length, Object.keys(LINKS).length + 1);
    for (const secret of SECRETS) assert.ok(!json.text.includes(secret), secret);
  });
});

describe('the front door with a PUBLIC_URL full of HTML', () => {
  const hostile = `http://127.0.0.1:9/a"b<i>c</i>'&amp;`;
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ PUBLIC_URL: hostile });
  });
  after(async () => {
    await server.close();
  });

  it('the configuration takes it as it is, and the page escapes it', async () => {
    assert.equal(server.services.config.publicUrl, hostile);
    const { text } = await get(server.url, BROWSER_ACCEPT);
    assert.ok(!text.includes('<i>c</i>'), 'no markup from the URL');
    assert.ok(!text.includes(`a"b`), 'no raw quote from the URL');
    assert.ok(text.includes('http://127.0.0.1:9/a&quot;b&lt;i&gt;c&lt;/i&gt;&#39;&amp;amp;/accessToken/get'));
    assert.ok(textOf(text).includes(`curl -X POST ${hostile}/accessToken/get`));

    const index = JSON.parse((await get(server.url, 'application/json')).text);
    assert.equal(index.links.self, `${hostile}/`);
    assert.equal(index.links.docs, `${hostile}/docs`);
  });
});
