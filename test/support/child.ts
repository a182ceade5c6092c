// Runs the server as a real child process (`vipps-psp start`), for tests that kill or signal it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, databaseImageFile, freshPostgresDatabase } from './server.ts';

export interface Child {
  url: string;
  port: number;
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Persistent data that survives a restart: a PGlite directory, or a fresh PostgreSQL database. */
export interface Storage {
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function persistentStorage(): Promise<Storage> {
  if (process.env.DATABASE_URL) {
    const db = await freshPostgresDatabase(process.env.DATABASE_URL);
    return { env: { DATABASE_URL: db.url }, drop: db.drop };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-'));
  return { env: { DATA_DIR: dir }, drop: async () => {} };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startChild(env: Record<string, string>, givenPort?: number, readyWithinMs = 30_000): Promise<Child> {
  await databaseImageFile();
  const port = givenPort ?? await freePort();
  let out = '';
  const child = spawn(process.execPath, ['src/cli/main.ts', 'start'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    try {
      const r = await fetch(`${url}/ready`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, process: child, output: () => out, exited, kill: (signal = 'SIGTERM') => { child.kill(signal); } };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'vipps-psp.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without anything that would change what the CLI does, plus `extra`. */
export function cleanCliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'ADMIN_TOKEN', 'VIPPS_PSP_URL', 'PORT', 'HOST', 'PUBLIC_URL', 'VIPPS_ENV', 'LOG_LEVEL', 'LOG_FORMAT', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

/**
 * Runs `vipps-psp ARGS` from the repository and collects its output. Asynchronous: the server under
 * test often lives in this process, so never spawnSync.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  await databaseImageFile();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanCliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    // Only a guard against a hung child: initdb of a fresh embedded database takes 10-30 s on a busy machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
