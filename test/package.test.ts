// The published package as a user gets it: `npm pack` (its prepack script builds dist/), the
// tarball installed with production dependencies only into an empty folder outside this
// repository, and the `vipps-psp` command it installs started on a fresh database.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, persistentStorage, type Storage } from './support/child.ts';
import { call, DEMO, pspHeaders } from './support/server.ts';
import { initBody } from './support/payments.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The testing guide's example tests, each under `<!-- example: NAME -->`. */
const EXAMPLES = ['example.test.ts', 'epayment.test.ts'];

/**
 * What the installed server must answer right after it starts. A page or a document that the
 * package serves is checked on the installed package by adding it here.
 */
const PROBES: ReadonlyArray<{ path: string; status: number; contentType: RegExp; contains?: string }> = [
  { path: '/health', status: 200, contentType: /^application\/json/, contains: '"status":"ok"' },
  { path: '/ready', status: 200, contentType: /^application\/json/, contains: '"status":"ready"' },
  { path: '/', status: 200, contentType: /^text\/html/, contains: 'href="/docs"' },
  { path: '/guide', status: 200, contentType: /^text\/html/, contains: 'href="/guide/epayment"' },
  { path: '/guide/epayment', status: 200, contentType: /^text\/html/, contains: 'CARD_PASSTHROUGH' },
  { path: '/guide/landing-page.png', status: 200, contentType: /^image\/png/ },
  { path: '/docs', status: 200, contentType: /^text\/html/, contains: 'swagger' },
  { path: '/openapi/psp-api.yaml', status: 200, contentType: /^application\/yaml/, contains: 'openapi: 3' },
  { path: '/openapi/psp-signup-api.yaml', status: 200, contentType: /^application\/yaml/, contains: 'openapi: 3' },
  { path: '/openapi/admin.json', status: 200, contentType: /^application\/json/, contains: '"openapi": "3' },
  { path: '/openapi/epayment.yaml', status: 200, contentType: /^application\/yaml/, contains: 'CARD_PASSTHROUGH' },
  { path: '/openapi/webhooks.yaml', status: 200, contentType: /^application\/yaml/, contains: 'Psp-Id' },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of every child: this process's, without what npm passes to a script (it would
 * point npm at this repository) or what would change the server, with this Node first on PATH, so
 * that npm and the installed command's `#!/usr/bin/env node` run on it rather than on an older system Node.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const drop = new Set(['INIT_CWD', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'NODE_PATH', 'DATABASE_URL', 'DATA_DIR', 'ADMIN_TOKEN', 'PORT', 'HOST', 'PUBLIC_URL', 'VIPPS_ENV', 'LOG_LEVEL', 'WORKERS', 'VIPPS_PSP_URL']);
  for (const [name, value] of Object.entries(process.env)) {
    if (drop.has(name)) continue;
    if (name.toLowerCase().startsWith('npm_') && !keep.has(name.toLowerCase())) continue;
    env[name] = value;
  }
  env.PATH = [path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter);
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Bytes in the files under `dir` (their sizes, not the disk blocks), and how many files. */
function sizeOf(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += lstatSync(path.join(entry.parentPath, entry.name)).size;
    files++;
  }
  return { bytes, files };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** What npm prints when neither its cache nor the registry can give it a package. */
const REGISTRY_UNREACHABLE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/;

/**
 * Where the packed and installed package of this commit is kept, when the checkout is clean: the next
 * run of the suite (CI's pass on PostgreSQL) starts from a copy instead of building, packing and
 * installing again. Undefined when there are changes not committed (or no git).
 */
function packageCache(): string | undefined {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const status = spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0 || status.status !== 0 || status.stdout.trim() !== '') return undefined;
  return path.join(tmpdir(), `vipps-psp-package-${head.stdout.trim()}`);
}

describe('the npm package', { concurrency: 1 }, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vipps-psp-package-'));
  const app = path.join(work, 'app');
  const installed = path.join(app, 'node_modules', 'vipps-psp');
  const bin = path.join(app, 'node_modules', '.bin', 'vipps-psp');
  /** Set when the dependencies cannot be had: every test then says why it did not run. */
  let unavailable: string | undefined;
  let server: ChildProcess | undefined;
  let storage: Storage | undefined;
  let facts = { packed: 0, installMs: 0 };
  let tarballPath = '';

  function skipped(t: TestContext): boolean {
    if (unavailable !== undefined) t.skip(unavailable);
    return unavailable !== undefined;
  }

  before(async () => {
    const packed = path.join(work, 'pack');
    const cache = packageCache();
    if (cache !== undefined && existsSync(path.join(cache, 'facts.json'))) {
      cpSync(path.join(cache, 'pack'), packed, { recursive: true });
      cpSync(path.join(cache, 'app'), app, { recursive: true, verbatimSymlinks: true });
      facts = JSON.parse(readFileSync(path.join(cache, 'facts.json'), 'utf8')) as typeof facts;
      tarballPath = path.join(packed, readdirSync(packed).find((name) => name.endsWith('.tgz'))!);
      return;
    }
    mkdirSync(packed);
    const packing = await run('npm', ['pack', '--pack-destination', packed], ROOT);
    assert.equal(packing.code, 0, `npm pack failed:\n${packing.stdout}\n${packing.stderr}`);
    const [tarball, ...more] = readdirSync(packed).filter((name) => name.endsWith('.tgz'));
    assert.ok(tarball !== undefined && more.length === 0, `npm pack made one tarball: ${readdirSync(packed).join(', ')}`);

    // An empty project of its own, so that npm neither finds this repository nor a node_modules above it.
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), '{ "name": "uses-vipps-psp", "private": true }\n');
    const started = Date.now();
    // From the npm cache where it can; a registry that does not answer is given up on in seconds, not minutes.
    const install = await run('npm', [
      'install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline',
      '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=5000', '--fetch-timeout=60000',
      path.join(packed, tarball),
    ], app);
    if (install.code !== 0 && REGISTRY_UNREACHABLE.test(install.stderr)) {
      unavailable = `the npm cache does not hold the dependencies and the registry cannot be reached (${REGISTRY_UNREACHABLE.exec(install.stderr)![0]})`;
      return;
    }
    assert.equal(install.code, 0, `npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`);
    facts = { packed: statSync(path.join(packed, tarball)).size, installMs: Date.now() - started };
    tarballPath = path.join(packed, tarball);
    if (cache !== undefined) {
      // Copied under another name and renamed: a run reading it never sees half of it.
      const partial = `${cache}.${process.pid}.part`;
      cpSync(packed, path.join(partial, 'pack'), { recursive: true });
      cpSync(app, path.join(partial, 'app'), { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(partial, 'facts.json'), JSON.stringify(facts));
      try { renameSync(partial, cache); } catch { rmSync(partial, { recursive: true, force: true }); }
    }
  }, { timeout: 300_000 });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    await storage?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled server and what it reads, not the sources or the tests', (t) => {
    if (skipped(t)) return;
    const files = readdirSync(installed, { recursive: true }).map(String).map((f) => f.split(path.sep).join('/'));
    for (const needed of ['bin/vipps-psp.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts',
      'dist/testing/index.js', 'dist/testing/index.d.ts', 'dist/testing/database-image.tar.gz', 'drizzle/meta/_journal.json', 'openapi/psp-api.openapi.yaml', 'openapi/LICENSE', 'README.md', 'LICENSE', 'docs/epayment.md', 'docs/landing-page.png']) {
      assert.ok(files.includes(needed), `the package holds ${needed}`);
    }
    assert.ok(files.some((f) => /^drizzle\/\d{4}_.*\.sql$/.test(f)), 'the package holds the migrations');
    // What the code reads beside itself (the page templates) is copied from src/ into dist/.
    const assets = readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.ts'))
      .map((entry) => path.relative(path.join(ROOT, 'src'), path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    assert.ok(assets.length > 0, 'src/ holds templates');
    for (const asset of assets) assert.ok(files.includes(`dist/${asset}`), `the package holds dist/${asset}`);
    // The manual it serves at /guide: the guides and their images, nothing else of docs/.
    const unwanted = files.filter((f) => /^(src|test|bench|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map')
      || (f.startsWith('docs/') && !/^docs\/[a-z0-9-]+\.(md|png)$/.test(f)));
    assert.deepEqual(unwanted, [], 'no sources, tests, benchmarks or source maps');

    const pkg = sizeOf(installed);
    const all = sizeOf(path.join(app, 'node_modules'));
    const packages = readdirSync(path.join(app, 'node_modules')).flatMap((name) => name.startsWith('@') ? readdirSync(path.join(app, 'node_modules', name)) : name.startsWith('.') ? [] : [name]).length;
    t.diagnostic(`packed: ${kib(facts.packed)}; the package unpacked: ${kib(pkg.bytes)} in ${pkg.files} files`);
    t.diagnostic(`installed with production dependencies: ${mib(all.bytes)} in ${all.files} files, ${packages} packages (npm install took ${(facts.installMs / 1000).toFixed(1)} s)`);
  });

  it('--help runs the installed command', async (t) => {
    if (skipped(t)) return;
    const help = await run(bin, ['--help'], app, 30_000);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^vipps-psp \d+\.\d+\.\d+ — /);
    assert.match(help.stdout, /DATABASE_URL/);
  });

  it('exports startServer and loadConfig to a program that imports it', async (t) => {
    if (skipped(t)) return;
    const script = "const m = await import('vipps-psp'); console.log(JSON.stringify(Object.keys(m).sort()));";
    const probe = await run(process.execPath, ['--input-type=module', '--eval', script], app, 30_000);
    assert.equal(probe.code, 0, probe.stderr);
    const names = JSON.parse(probe.stdout) as string[];
    for (const name of ['startServer', 'loadConfig', 'ConfigError']) assert.ok(names.includes(name), `exports ${name}: ${names.join(', ')}`);
  });

  it('starts, answers its probes, issues a token and initiates a payment; restarts on the same data', async (t) => {
    if (skipped(t)) return;
    storage = await persistentStorage();
    const embedded = storage.env.DATABASE_URL === undefined;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let output = '';
    const start = async (): Promise<number> => {
      output = '';
      const started = performance.now();
      server = spawn(bin, ['start'], {
        cwd: app,
        env: childEnv({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', VIPPS_ENV: 'test', ...storage!.env }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout!.setEncoding('utf8').on('data', (d: string) => { output += d; });
      server.stderr!.setEncoding('utf8').on('data', (d: string) => { output += d; });
      // Only a guard against a server that never comes up: a fresh database alone can take 10-30 s
      // on a busy machine.
      const deadline = Date.now() + 120_000;
      for (;;) {
        assert.ok(server.exitCode === null, `the server exited early:\n${output}`);
        assert.ok(Date.now() < deadline, `no /health answer within 120 s:\n${output}`);
        const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
        if (ok) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return performance.now() - started;
    };
    const stop = async () => {
      const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
      server!.kill('SIGTERM');
      assert.equal(await exited, 0, `a clean exit on SIGTERM:\n${output}`);
    };

    const coldStart = await start();
    t.diagnostic(`cold start (spawn to /health 200, fresh ${embedded ? 'embedded database' : 'PostgreSQL database'}): ${(coldStart / 1000).toFixed(2)} s`);
    // The installed package unpacks a new embedded database from the image it ships (no initdb).
    if (embedded) assert.match(output, /Creating the embedded database in \S+ from the packaged database image \(first start\)/);

    for (const probe of PROBES) {
      const answer = await fetch(`${url}${probe.path}`);
      const text = await answer.text();
      assert.equal(answer.status, probe.status, `${probe.path}: ${text.slice(0, 300)}`);
      assert.match(answer.headers.get('content-type') ?? '', probe.contentType, probe.path);
      if (probe.contains !== undefined) assert.ok(text.includes(probe.contains), `${probe.path} contains ${probe.contains}: ${text.slice(0, 300)}`);
    }

    const headers = { ...(await pspHeaders(url)), 'merchant-serial-number': DEMO.msn };
    const body = initBody('http://127.0.0.1:9/makepayment');
    const initiated = await call(url, 'POST', '/psp/v3/psppayments/init', { headers, body });
    assert.equal(initiated.status, 200, initiated.text);
    assert.equal(initiated.body.pspTransactionId, body.pspTransactionId);
    assert.match(initiated.body.vippsRedirectUrl, new RegExp(`^http://localhost:${port}/`));
    assert.match(output, new RegExp(`vipps-psp is listening on http://localhost:${port}`), 'the banner is printed');
    await stop();

    // A restart resumes the same database: the payment is there, nothing is created again.
    await start();
    assert.doesNotMatch(output, /Creating the embedded database/);
    const found = await call(url, 'GET', `/psp/v3/psppayments/${body.pspTransactionId as string}/details`, { headers: { ...(await pspHeaders(url)), 'merchant-serial-number': DEMO.msn } });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.pspTransactionId, body.pspTransactionId);
    await stop();
  });
  it('runs the testing guide\'s example tests of a PSP\'s makePayment, card-callback and webhook endpoints in a project of its own, type-checked', async (t) => {
    if (skipped(t)) return;
    // The examples are the guide's, as printed: the test fails when either stops working.
    const readme = readFileSync(path.join(ROOT, 'docs/testing.md'), 'utf8');
    const project = path.join(work, 'example');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), '{ "name": "psp-example", "private": true, "type": "module" }\n');
    for (const name of EXAMPLES) {
      const example = new RegExp(`<!-- example: ${name.replaceAll('.', '\\.')} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
      assert.ok(example, `docs/testing.md holds the example under <!-- example: ${name} -->`);
      writeFileSync(path.join(project, name), `${example[1]}\n`);
    }
    writeFileSync(path.join(project, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: {
        target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2024', 'esnext.disposable'], types: ['node'],
        strict: true, noEmit: true, verbatimModuleSyntax: true, skipLibCheck: true,
      },
      include: ['*.ts'],
    }, null, 2)}\n`);
    // The versions this repository uses, so that the npm cache has them.
    const dev = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
    const install = await run('npm', [
      'install', '--no-audit', '--no-fund', '--prefer-offline', '--fetch-retries=1', '--fetch-timeout=60000',
      tarballPath, `typescript@${dev.typescript}`, `@types/node@${dev['@types/node']}`,
    ], project);
    if (install.code !== 0 && REGISTRY_UNREACHABLE.test(install.stderr)) {
      t.skip(`typescript and @types/node are neither in the npm cache nor reachable (${REGISTRY_UNREACHABLE.exec(install.stderr)![0]})`);
      return;
    }
    assert.equal(install.code, 0, `npm install in the example project failed:\n${install.stdout}\n${install.stderr}`);

    const tsc = await run(process.execPath, [path.join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', project], project, 120_000);
    assert.equal(tsc.code, 0, `tsc --noEmit on the example:\n${tsc.stdout}\n${tsc.stderr}`);

    for (const name of EXAMPLES) {
      const started = performance.now();
      const test = await run(process.execPath, ['--test', '--test-reporter=tap', name], project, 120_000);
      assert.equal(test.code, 0, `node --test ${name}:\n${test.stdout}\n${test.stderr}`);
      assert.match(test.stdout, /^# pass 1$/m, test.stdout);
      assert.match(test.stdout, /^# fail 0$/m, test.stdout);
      t.diagnostic(`${name} ran in ${((performance.now() - started) / 1000).toFixed(1)} s (a Node process, the server and its database started from the package's image)`);
    }
  });
});
