// The manual, served at /guide: every page renders, every link on it leads somewhere (another page
// and its heading, a page or document of the server, or a known site), and every curl example of the
// README and the guides runs against a server as printed, with the output the manual shows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { ROOT, blocksOf, commandsOf, expectationOf, manualFiles, receiversFrom, type ManualFile } from '../support/manual.ts';

const FILES = manualFiles();
/** The only sites the manual may link to; their pages are not fetched (the tests have no network). */
const EXTERNAL_HOSTS = new Set(['github.com']);

function pagePath(file: string): string {
  return file === 'README.md' ? '/guide' : `/guide/${path.basename(file, '.md')}`;
}

function decode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The guide's own HTML (the article), without the frame's links. */
function articleOf(html: string): string {
  const m = /<article class="guide">([\s\S]*)<\/article>/.exec(html);
  assert.ok(m, 'the page holds the guide');
  return m[1];
}

describe('the manual at /guide', () => {
  let server: TestServer;
  const pages = new Map<string, string>();

  const responses = new Map<string, Response>();

  before(async () => {
    server = await startTestServer();
    for (const f of FILES) {
      const response = await fetch(`${server.url}${pagePath(f.file)}`);
      pages.set(pagePath(f.file), await response.text());
      responses.set(pagePath(f.file), response);
    }
  });
  after(async () => {
    await server.close();
  });

  it('renders the README and every guide, with a title, the contents and no raw marker', async () => {
    for (const f of FILES) {
      const response = responses.get(pagePath(f.file))!;
      const html = pages.get(pagePath(f.file))!;
      assert.equal(response.status, 200, f.file);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const heading = /^#\s+(.+)$/m.exec(f.text)?.[1].replace(/`/g, '') ?? '';
      assert.ok(html.includes(`<title>${heading.replace(/&/g, '&amp;').replace(/'/g, '&#39;')} · vipps-psp manual</title>`), `${f.file}: the title is its heading`);
      const nav = /<nav class="guide-nav"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
      for (const other of FILES) assert.ok(nav.includes(`href="${pagePath(other.file)}"`), `${f.file} links ${other.file} in its contents`);
      assert.doesNotMatch(html, /<p>&lt;!--/, `${f.file}: no marker comment shows as text`);
    }
    // A guide that does not exist is a page, not an error of the API.
    const missing = await fetch(`${server.url}/guide/no-such-guide`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /The manual has no page at this address/);
  });

  it('is linked from the front door and from the console', async () => {
    const front = await (await fetch(`${server.url}/`)).text();
    assert.ok(front.includes('<a href="/guide">'));
    const console = await (await fetch(`${server.url}/console/sign-in`)).text();
    assert.ok(console.includes('href="/guide/console"'));
  });

  it('every link of every page leads to a page, a heading on it, an image, a route of the server or a known site', async (t) => {
    assert.equal(pages.size, FILES.length, 'the pages were fetched');
    const idsOf = (html: string) => new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => decode(m[1])));
    let checked = 0;
    const fetched = new Map<string, number>();
    for (const [page, html] of pages) {
      const article = articleOf(html);
      const targets = [...article.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => decode(m[1]));
      for (const target of targets) {
        const where = `${page}: ${target}`;
        if (target.startsWith('#')) {
          assert.ok(idsOf(html).has(decodeURIComponent(target.slice(1))), `${where}: a heading of the page`);
          // A heading's link to itself is not one of the guide's links.
          if (!new RegExp(`<h[1-6] id="${target.slice(1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*><a class="header-anchor" href="${target}"`).test(html)) checked++;
          continue;
        }
        checked++;
        const url = new URL(target.replace('http://localhost:8080', server.url), `${server.url}${page}`);
        if (url.origin !== new URL(server.url).origin) {
          assert.equal(url.protocol, 'https:', where);
          assert.ok(EXTERNAL_HOSTS.has(url.hostname), `${where}: a known site`);
          continue;
        }
        assert.ok(!/\.md$/.test(url.pathname), `${where}: a Markdown file is linked as its page`);
        const key = url.pathname + url.search;
        let status = fetched.get(key);
        if (status === undefined) {
          // Redirects followed (the console's pages lead to its sign-in): where a link ends must answer.
          const response = await fetch(`${server.url}${key}`);
          await response.arrayBuffer();
          status = response.status;
          fetched.set(key, status);
        }
        assert.ok(status < 400, `${where}: answered ${status}`);
        if (url.hash) {
          const target = pages.get(url.pathname);
          assert.ok(target, `${where}: a heading of a page of the manual`);
          assert.ok(idsOf(target).has(decodeURIComponent(url.hash.slice(1))), `${where}: the heading exists`);
        }
      }
    }
    assert.ok(checked > 40, `links checked: ${checked}`);
    t.diagnostic(`${checked} links checked, ${fetched.size} addresses fetched`);
  });

  it('serves the images the guides show, and nothing else of the folder', async () => {
    const image = await fetch(`${server.url}/guide/landing-page.png`);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    assert.deepEqual([...new Uint8Array(await image.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    for (const name of ['..%2Fpackage.json', 'README.md', 'nope.png', '..%2F..%2Fetc%2Fpasswd', '..%2Fdocs%2Flanding-page.png', '%2e%2e%2fpackage.json']) {
      const response = await fetch(`${server.url}/guide/${name}`);
      await response.arrayBuffer();
      assert.equal(response.status, 404, name);
    }
  });
});

// ---- the curl examples ----

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Ran {
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<Ran & { code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

/** The manual's receivers, started with their ports replaced; each is stopped by the returned function. */
async function startReceivers(files: ManualFile[], ports: Record<string, number>, dir: string) {
  const running: { name: string; child: ReturnType<typeof spawn>; out: Ran; code: string }[] = [];
  for (const f of files) {
    for (const [i, block] of blocksOf(f.text).filter((b) => b.marker === 'receiver').entries()) {
      const code = Object.entries(ports).reduce((c, [from, to]) => c.replaceAll(`(${from})`, `(${to})`).replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${to}`), block.code);
      const file = path.join(dir, `${path.basename(f.file, '.md')}-${i}.mjs`);
      writeFileSync(file, code);
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: '', stderr: '' };
      child.stdout!.on('data', (c) => (out.stdout += c));
      child.stderr!.on('data', (c) => (out.stderr += c));
      running.push({ name: `${f.file} line ${block.line}`, child, out, code });
    }
  }
  // Ready once the ports they listen on take connections (a TCP connect only: a request would be one more call to them).
  const listening = Object.values(ports).filter((port) => running.some((r) => r.code.includes(`(${port})`)));
  for (const port of listening) {
    for (let i = 0; i < 200; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    running,
    stop() {
      for (const r of running) r.child.kill();
    },
  };
}

const CLI = path.join(ROOT, 'src/cli/main.ts');

describe('the curl examples of the manual, run as printed', () => {
  for (const f of FILES) {
    const shell = blocksOf(f.text).filter((b) => b.lang === 'sh' && /\bcurl\b/.test(b.code));
    if (shell.length === 0) continue;
    const toRun = shell.filter((b) => !b.marker?.startsWith('not run'));

    it(`${f.file}: ${toRun.length} blocks with curl${toRun.length < shell.length ? ` (and ${shell.length - toRun.length} shown, not run, each saying why)` : ''}`, async () => {
      for (const b of shell) {
        if (b.marker?.startsWith('not run')) assert.match(b.marker, /^not run: \S/, `${f.file} line ${b.line}: says why`);
      }
      const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-manual-'));
      const server = await startTestServer();
      const ports = { '3000': await freePort(), '3001': await freePort() };
      const receiverFiles = [f, ...receiversFrom(f.text).map((name) => FILES.find((x) => x.file === `docs/${name}`)!)];
      const receivers = await startReceivers(receiverFiles, ports, dir);
      try {
        const base = `http://localhost:${new URL(server.url).port}`;
        const commands = toRun.flatMap((b) => commandsOf(b.code).map((c) => ({ ...c, line: b.line })));
        const substituted = (s: string) => Object.entries(ports).reduce((t, [from, to]) => t.replaceAll(`127.0.0.1:${from}`, `127.0.0.1:${to}`), s.replaceAll('http://localhost:8080', base));
        const script = [
          "curl() { command curl --max-time 60 -w '%{stderr}@@status %{http_code}\\n' \"$@\"; }",
          'npx() { if [ "$1" = vipps-psp ]; then shift; "$MANUAL_NODE" "$MANUAL_CLI" "$@"; else echo "npx $1: not run here" >&2; return 1; fi; }',
          ...commands.flatMap((c, k) => [
            `printf '@@begin ${k}\\n'; printf '@@begin ${k}\\n' >&2`,
            substituted(c.source),
            `printf '\\n@@end ${k} %s\\n' "$?"`,
          ]),
        ].join('\n');
        writeFileSync(path.join(dir, 'examples.sh'), script);
        const ran = await run('bash', ['examples.sh'], {
          cwd: dir, timeoutMs: 240_000,
          env: { ADMIN_TOKEN, VIPPS_PSP_URL: base, MANUAL_NODE: process.execPath, MANUAL_CLI: CLI, LOG_LEVEL: 'silent' },
        });
        const sections = (text: string) => {
          const out = new Map<number, string>();
          for (const m of text.matchAll(/@@begin (\d+)\n([\s\S]*?)(?=@@begin \d+\n|$)/g)) out.set(Number(m[1]), m[2]);
          return out;
        };
        const outs = sections(ran.stdout);
        const errs = sections(ran.stderr);
        assert.equal(outs.size, commands.length, `every command ran; stderr: ${ran.stderr.slice(-2000)}`);
        for (const [k, c] of commands.entries()) {
          const where = `${f.file}, block at line ${c.line}: ${c.source.slice(0, 160)}`;
          const out = outs.get(k) ?? '';
          const end = /\n@@end \d+ (\d+)\n$/.exec(out);
          assert.ok(end, `${where}: finished`);
          const stdout = out.slice(0, end.index).trim();
          const stderr = (errs.get(k) ?? '');
          const statuses = [...stderr.matchAll(/@@status (\d{3})/g)].map((m) => Number(m[1]));
          const errors = stderr.replace(/@@status \d{3}\n?/g, '').trim();
          assert.equal(end[1], '0', `${where}: exit status ${end[1]}; stdout: ${stdout.slice(0, 1000)}; stderr: ${errors.slice(0, 1000)}`);
          const expected = expectationOf(c.shown, base);
          const last = statuses.at(-1);
          if (expected.status !== undefined) assert.equal(last, expected.status, `${where}: answered ${last}, the manual shows ${expected.status}; ${stdout.slice(0, 600)}`);
          else if (expected.clientError) assert.ok(last !== undefined && last >= 400 && last < 500, `${where}: answered ${last}, the manual shows an error`);
          else for (const s of statuses) assert.ok(s >= 200 && s < 400, `${where}: answered ${s}; ${stdout.slice(0, 600)}`);
          if (expected.output) {
            const captured = /^[A-Z_]+=\$\(/.test(c.source);
            if (captured && stdout === '') continue;
            const actual = expected.firstLine ? stdout.split(/\r?\n/)[0].trim() : stdout;
            assert.match(actual, expected.output, `${where}: the output is as the manual shows it`);
          }
        }
        // Every curl of the blocks made its request (one status each), none was skipped by a mistake in the cutting.
        const requests = [...ran.stderr.matchAll(/@@status \d{3}/g)].length;
        const curls = toRun.reduce((n, b) => n + [...b.code.matchAll(/(^|[\s(])curl\s/g)].length, 0);
        assert.equal(requests, curls, `${f.file}: ${curls} curl commands, ${requests} requests made`);
        for (const r of receivers.running) {
          assert.ok(r.out.stdout.length > 0, `${r.name}: the examples called the receiver`);
          assert.doesNotMatch(r.out.stdout, /BAD SIGNATURE/, `${r.name}: every signature checked out`);
          assert.equal(r.out.stderr, '', `${r.name}: no error`);
        }
      } finally {
        receivers.stop();
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
