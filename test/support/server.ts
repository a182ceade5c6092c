// Starts the real server on an ephemeral port for black-box tests.
// Backend: embedded PGlite in memory by default; with DATABASE_URL set, a fresh PostgreSQL
// database per server (created here, dropped on close), so test files never see each other's data.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Agent, fetch as undiciFetch } from 'undici';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { DEMO } from '../../src/operations/seed.ts';
import { makeDatabaseImage } from '../../src/testing/index.ts';

export { DEMO };

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer extends RunningServer {
  databaseUrl?: string;
}

/** A fresh PostgreSQL database on the server of DATABASE_URL; returns its URL and a dropper. */
export async function freshPostgresDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vipps_psp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export function backend(): 'postgres' | 'pglite' {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

/**
 * Starts a server. `env` overrides configuration variables. `databaseUrl` reuses an existing
 * database (to restart on the same data); otherwise a fresh one is made.
 */
export async function startTestServer(env: Record<string, string> = {}, opts: { databaseUrl?: string; dataDir?: string } = {}): Promise<TestServer> {
  let databaseUrl = opts.databaseUrl;
  let drop: (() => Promise<void>) | undefined;
  if (!databaseUrl && process.env.DATABASE_URL && !opts.dataDir) {
    const fresh = await freshPostgresDatabase(process.env.DATABASE_URL);
    databaseUrl = fresh.url;
    drop = fresh.drop;
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: opts.dataDir ?? 'memory://',
    DB_POOL_SIZE: '5',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  // An in-memory embedded database starts from an image of a migrated one, made once per test
  // process (as vipps-psp/testing does): PostgreSQL's initdb and the migrations take seconds each time.
  const inMemory = config.databaseUrl === undefined && config.dataDir === 'memory://';
  const server = await startServer(config, inMemory ? { initialImage: await memoryImage() } : {});
  return {
    ...server,
    databaseUrl,
    async close() {
      await server.close();
      if (drop) await drop();
    },
  };
}

const agents = new Map<string, Agent>();

/**
 * A fetch whose connections come from `localAddress` (another loopback address, such as 127.0.0.2),
 * so that the server sees a second client address.
 */
export function fetchFrom(localAddress: string): typeof fetch {
  let agent = agents.get(localAddress);
  if (!agent) agents.set(localAddress, (agent = new Agent({ localAddress })));
  const dispatcher = agent;
  return ((input: string, init: RequestInit = {}) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

let image: Promise<Blob> | undefined;

// Server processes started by the tests (they inherit the environment) unpack a new DATA_DIR from the
// image; until the file is made (databaseImageFile), they run initdb as from the sources.
process.env.VIPPS_PSP_DATABASE_IMAGE ??= imageFile();

/**
 * The image of a migrated embedded database that every in-memory test server starts from. It is made
 * once per set of migrations (and PGlite version) and kept in the temporary folder, so that the test
 * files, each in a process of its own, do not each run initdb and the migrations (seconds each).
 */
function memoryImage(): Promise<Blob> {
  image ??= cachedImage();
  image.catch(() => { image = undefined; });
  return image;
}

/**
 * The file of the migrated embedded database image (made when there is none yet): server processes
 * the tests start get it as VIPPS_PSP_DATABASE_IMAGE, so that a new DATA_DIR is unpacked from it as
 * the built package does, instead of running initdb and every migration (seconds per start).
 */
export async function databaseImageFile(): Promise<string> {
  await memoryImage();
  return imageFile();
}

function imageFile(): string {
  const root = path.resolve(import.meta.dirname, '../..');
  const hash = createHash('sha256');
  const migrations = path.join(root, 'drizzle');
  for (const name of readdirSync(migrations).filter((n) => n.endsWith('.sql')).sort()) hash.update(name).update(readFileSync(path.join(migrations, name)));
  hash.update(readFileSync(path.join(migrations, 'meta', '_journal.json')));
  hash.update(readFileSync(path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  return path.join(tmpdir(), `vipps-psp-test-image-${hash.digest('hex').slice(0, 24)}.tar.gz`);
}

async function cachedImage(): Promise<Blob> {
  const file = imageFile();
  try {
    return new Blob([readFileSync(file)], { type: 'application/gzip' });
  } catch { /* not made yet */ }
  const made = await makeDatabaseImage();
  // Written under another name and renamed: a process reading it never sees half of it.
  const partial = `${file}.${process.pid}.part`;
  writeFileSync(partial, Buffer.from(await made.arrayBuffer()));
  renameSync(partial, file);
  return made;
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small fetch wrapper: JSON in, parsed JSON (or text) out. */
export async function call<T = any>(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; raw?: string; from?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const send = opts.from === undefined ? fetch : fetchFrom(opts.from);
  const response = await send(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export interface PspClient {
  pspId: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
}

export const DEMO_CLIENT: PspClient = {
  pspId: DEMO.psp.pspId,
  clientId: DEMO.psp.clientId,
  clientSecret: DEMO.psp.clientSecret,
  subscriptionKey: DEMO.psp.subscriptionKey,
};

export async function accessToken(base: string, client: PspClient = DEMO_CLIENT): Promise<string> {
  const answer = await call(base, 'POST', '/accessToken/get', {
    headers: { client_id: client.clientId, client_secret: client.clientSecret, 'Ocp-Apim-Subscription-Key': client.subscriptionKey },
  });
  if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
  return answer.body.access_token as string;
}

/** The headers of an authenticated PSP API request. */
export async function pspHeaders(base: string, client: PspClient = DEMO_CLIENT, msn: string | undefined = DEMO.msn): Promise<Record<string, string>> {
  const token = await accessToken(base, client);
  return {
    authorization: `Bearer ${token}`,
    'ocp-apim-subscription-key': client.subscriptionKey,
    'psp-id': client.pspId,
    ...(msn ? { 'merchant-serial-number': msn } : {}),
  };
}

export function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${ADMIN_TOKEN}` };
}

/** Creates another PSP through the operator API. */
export async function createPsp(base: string, name = 'Other PSP'): Promise<PspClient> {
  const answer = await call(base, 'POST', '/admin/psps', { headers: adminHeaders(), body: { name } });
  if (answer.status !== 201) throw new Error(`create PSP failed: ${answer.status} ${answer.text}`);
  return answer.body as PspClient;
}

/** A valid PNG logo of the given size (only the header matters to the server). */
export function pngLogo(width = 200, height = 200): string {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'latin1');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes[24] = 8;
  bytes[25] = 6;
  return bytes.toString('base64');
}

export function merchantBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    organizationNumber: '987654321',
    name: 'Sock Shop',
    mccCode: '5411',
    logo: pngLogo(),
    email: 'contact@sockshop.example',
    website: 'https://sockshop.no',
    address: { addressLine1: 'Storgata 1', city: 'Oslo', postCode: '0155', country: 'NO' },
    companyName: 'Sock Shop AS',
    companyEmail: 'post@sockshop.example',
    ...overrides,
  };
}
