// One process per embedded data folder. `start` and `migrate` lock DATA_DIR: a second opener is
// refused at once with the PID of the holder, a lock left by a killed process is taken over, and a
// clean stop removes it. These are about the embedded database, so they run on a DATA_DIR (DATABASE_URL
// explicitly empty), in the pass without DATABASE_URL only: the pass on PostgreSQL would run them
// exactly the same way again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startChild, type Child } from './support/child.ts';
import { ADMIN_TOKEN, adminHeaders, call, databaseImageFile } from './support/server.ts';
import { openDatabase } from '../src/store/db.ts';
import { DataDirLockedError, LOCK_FILE, lockDataDir, STALE_AFTER_MS } from '../src/store/data-dir-lock.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const LOCK_MODULE = new URL('../src/store/data-dir-lock.ts', import.meta.url).href;

// ---- resources, released in after() whatever happened --------------------------------------------

const children = new Set<ChildProcess>();
const dirs: string[] = [];

after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all([...children].map((child) => exited(child)));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-lock-'));
  dirs.push(dir);
  return dir;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The embedded database in `dir`, whatever the environment of the test run says. */
function embedded(dir: string): Record<string, string> {
  return { DATABASE_URL: '', DATA_DIR: dir };
}

async function startServer(dir: string): Promise<Child> {
  const child = await startChild(embedded(dir));
  children.add(child.process);
  return child;
}

async function stop(child: Child, signal: NodeJS.Signals = 'SIGTERM') {
  child.kill(signal);
  return exited(child.process);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `vipps-psp <args>` to its end. */
async function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const began = Date.now();
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const { code } = await exited(child);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: Date.now() - began };
}

/** The refusal: one line on stderr naming the folder and the holder, pointing to DATABASE_URL. */
function assertRefused(run: Run, dir: string, holderPid: number | undefined): void {
  const output = `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  assert.equal(run.code, 1, output);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, no stack trace:\n${output}`);
  const [line] = lines;
  assert.ok(line.includes(path.resolve(dir)), `names the folder:\n${output}`);
  assert.match(line, new RegExp(`\\bprocess ${holderPid}\\b`), `names the holder's PID:\n${output}`);
  assert.match(line, /one process/, output);
  assert.match(line, /DATABASE_URL/, output);
}

/** What a refused opener must leave as it was: the folder's entries and the lock's content. */
function snapshot(dir: string): { entries: string[]; lock: string } {
  return { entries: readdirSync(dir).sort(), lock: readFileSync(path.join(dir, LOCK_FILE), 'utf8') };
}

function lockPid(dir: string): number {
  return JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid;
}

async function createPsp(base: string, name: string): Promise<string> {
  const answer = await call(base, 'POST', '/admin/psps', { headers: adminHeaders(), body: { name } });
  assert.equal(answer.status, 201, answer.text);
  return answer.body.pspId as string;
}

async function pspIds(base: string): Promise<string[]> {
  const answer = await call(base, 'GET', '/admin/psps', { headers: adminHeaders() });
  assert.equal(answer.status, 200, answer.text);
  return (answer.body.psps as Array<{ pspId: string }>).map((p) => p.pspId);
}

// ---- the command ----------------------------------------------------------------------------------

// Server processes unpack a new DATA_DIR from the test image (support/server.ts) once it exists.
before(async () => { await databaseImageFile(); });

const EMBEDDED_PASS = process.env.DATABASE_URL ? 'about the embedded database: run in the pass without DATABASE_URL' : false;

describe('vipps-psp on a DATA_DIR another process has open', { concurrency: 1, timeout: 300_000, skip: EMBEDDED_PASS }, () => {
  it('a second `start` exits 1 at once naming the folder and the PID of the first, which keeps serving its data', async () => {
    const dir = tempDir();
    const first = await startServer(dir);
    const pspId = await createPsp(first.url, 'Before the second start');
    const before = snapshot(dir);
    assert.equal(lockPid(dir), first.process.pid);

    const port = await freePort();
    const second = await cli(['start'], { ...embedded(dir), PORT: String(port) });
    assertRefused(second, dir, first.process.pid);
    assert.ok(second.ms < 15_000, `refused at once, not after ${second.ms} ms`);
    assert.equal(second.stdout, '', 'no banner');
    assert.deepEqual(snapshot(dir), before, 'the refused opener created or changed nothing in the folder');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the second never listened');

    // Opening the database in code is refused the same way, not only the command.
    await assert.rejects(openDatabase({ dataDir: dir }), (err: unknown) => {
      assert.ok(err instanceof DataDirLockedError, String(err));
      assert.equal(err.pid, first.process.pid);
      assert.equal(err.dataDir, path.resolve(dir));
      return true;
    });
    assert.deepEqual(snapshot(dir), before);

    assert.equal((await call(first.url, 'GET', '/ready')).status, 200);
    assert.ok((await pspIds(first.url)).includes(pspId), 'the first server still has its data');
    const created = await createPsp(first.url, 'After the refusals');
    assert.ok((await pspIds(first.url)).includes(created), 'and still writes');
    assert.equal((await stop(first)).code, 0, first.output());
  });

  it('`migrate` on a live folder is refused the same way', async () => {
    const dir = tempDir();
    const first = await startServer(dir);
    const pspId = await createPsp(first.url, 'Before migrate');
    const before = snapshot(dir);

    const run = await cli(['migrate'], embedded(dir));
    assertRefused(run, dir, first.process.pid);
    assert.doesNotMatch(run.stdout, /Migrations applied/);
    assert.deepEqual(snapshot(dir), before);

    assert.equal((await call(first.url, 'GET', '/ready')).status, 200);
    assert.ok((await pspIds(first.url)).includes(pspId));
    assert.equal((await stop(first)).code, 0, first.output());

    // Once the server is gone, migrate runs, and leaves no lock behind either.
    const again = await cli(['migrate'], embedded(dir));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Migrations applied to embedded PGlite/);
    assert.ok(!existsSync(path.join(dir, LOCK_FILE)));
  });

  it('two `start`s at once on a fresh folder: one serves, the other is refused naming it', async () => {
    const dir = tempDir();
    const [a, b] = await Promise.allSettled([startServer(dir), startServer(dir)]);
    const served = [a, b].filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const failed = [a, b].filter((r) => r.status === 'rejected').map((r) => String(r.reason));
    assert.equal(served.length, 1, `exactly one serves:\n${failed.join('\n')}`);
    assert.equal(failed.length, 1);
    assert.match(failed[0], new RegExp(`in use by process ${served[0].process.pid}\\b`), failed[0]);
    assert.equal(lockPid(dir), served[0].process.pid);
    await createPsp(served[0].url, 'One of two');
    assert.equal((await stop(served[0])).code, 0, served[0].output());
  });

  it('after kill -9 the lock stays behind, and the next `start` takes it over with the acknowledged data intact', async () => {
    const dir = tempDir();
    const first = await startServer(dir);
    const pspId = await createPsp(first.url, 'Before the kill');
    const killed = await stop(first, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(lockPid(dir), first.process.pid, 'a killed process cannot remove its lock');

    const second = await startServer(dir);
    assert.equal(lockPid(dir), second.process.pid);
    assert.ok((await pspIds(second.url)).includes(pspId), 'the PSP acknowledged before the kill is there');
    assert.equal((await stop(second)).code, 0, second.output());
  });

  it('after a clean SIGTERM stop the lock file is gone', async () => {
    const dir = tempDir();
    const server = await startServer(dir);
    assert.equal(lockPid(dir), server.process.pid);
    assert.equal((await stop(server)).code, 0, server.output());
    assert.ok(!existsSync(path.join(dir, LOCK_FILE)), `left: ${readdirSync(dir).join(', ')}`);
    assert.deepEqual(readdirSync(dir), ['pgdata']);
  });
});

// ---- the lock itself ------------------------------------------------------------------------------

/** A process holding the lock on `dir` until it is killed or its stdin closes. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = `
    import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
    lockDataDir(process.argv[1]);
    process.stdout.write('locked\\n');
    process.stdin.resume().on('end', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const deadline = Date.now() + 20_000;
  while (!out.includes('locked')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the holder did not lock:\n${out}`);
    await sleep(20);
  }
  return child;
}

function writeLock(dir: string, content: string, ageMs = 0): void {
  const file = path.join(dir, LOCK_FILE);
  writeFileSync(file, content);
  const when = new Date(Date.now() - ageMs);
  utimesSync(file, when, when);
}

function foreignLock(nonce: string): string {
  return `${JSON.stringify({ pid: 1, host: 'other-host', machine: 'another machine', startedAt: '2020-01-01T00:00:00.000Z', nonce })}\n`;
}

function refusal(fn: () => unknown): DataDirLockedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataDirLockedError) return err;
    throw err;
  }
  assert.fail('expected DataDirLockedError');
}

describe('the data folder lock', { timeout: 120_000, skip: EMBEDDED_PASS }, () => {
  it('creates the folder and a lock naming this process; release removes it', () => {
    const dir = path.join(tempDir(), 'data');
    const lock = lockDataDir(dir);
    assert.equal(lock.file, path.join(dir, LOCK_FILE));
    assert.equal(lockPid(dir), process.pid);
    assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
    lock.release();
    lock.release();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a second lock in the same process until the first is released', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    const before = readFileSync(lock.file, 'utf8');
    const err = refusal(() => lockDataDir(dir));
    assert.equal(err.pid, process.pid);
    assert.equal(readFileSync(lock.file, 'utf8'), before);
    lock.release();
    lockDataDir(dir).release();
  });

  it('refuses while the holding process lives, and takes the lock over once it was killed', async () => {
    const dir = tempDir();
    const child = await holder(dir);
    const before = readFileSync(path.join(dir, LOCK_FILE), 'utf8');
    const err = refusal(() => lockDataDir(dir));
    assert.equal(err.pid, child.pid);
    assert.match(err.message, new RegExp(`DATA_DIR ${path.resolve(dir).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} is in use by process ${child.pid}:`));
    assert.equal(readFileSync(path.join(dir, LOCK_FILE), 'utf8'), before, 'the refused opener changed nothing');

    child.kill('SIGKILL');
    await exited(child);
    assert.equal(lockPid(dir), child.pid, 'left behind');
    const lock = lockDataDir(dir);
    assert.equal(lockPid(dir), process.pid);
    assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'no claim or temporary file left');
    lock.release();
  });

  it('a holder that stops cleanly removes its lock', async () => {
    const dir = tempDir();
    const child = await holder(dir);
    child.stdin!.end();
    assert.equal((await exited(child)).code, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('takes over a lock naming our own PID that this process does not hold (left by an earlier process with that PID)', () => {
    const dir = tempDir();
    const first = lockDataDir(dir);
    const leftover = readFileSync(first.file, 'utf8');
    first.release();
    writeLock(dir, leftover);
    const lock = lockDataDir(dir);
    const now = JSON.parse(readFileSync(lock.file, 'utf8'));
    assert.equal(now.pid, process.pid);
    assert.notEqual(now.nonce, JSON.parse(leftover).nonce, 'a new lock replaced the leftover');
    lock.release();
  });

  it('a lock from another machine or container lives while it is refreshed, and is stale after that', () => {
    const dir = tempDir();
    writeLock(dir, foreignLock('fresh'));
    const err = refusal(() => lockDataDir(dir));
    assert.equal(err.pid, 1);
    assert.match(err.message, /process 1 on host other-host/);

    // PID 1 is alive here, but it is not the holder's PID 1: only the age counts.
    writeLock(dir, foreignLock('old'), STALE_AFTER_MS + 60_000);
    const lock = lockDataDir(dir);
    assert.equal(lockPid(dir), process.pid);
    lock.release();
  });

  it('an unreadable lock counts as held while fresh (being written), as stale when old', () => {
    const dir = tempDir();
    writeLock(dir, '');
    const err = refusal(() => lockDataDir(dir));
    assert.equal(err.pid, undefined);
    assert.match(err.message, /in use by another process/);

    writeLock(dir, '{"pid":', STALE_AFTER_MS + 60_000);
    const lock = lockDataDir(dir);
    assert.equal(lockPid(dir), process.pid);
    lock.release();
  });

  it('a take-over whose taker died half-way is taken over all the same', () => {
    const dir = tempDir();
    writeLock(dir, foreignLock('stale-one'), STALE_AFTER_MS + 60_000);
    // The dead taker's claim on that stale lock.
    const claim = path.join(dir, `${LOCK_FILE}.takeover-stale-one-1`);
    writeFileSync(claim, foreignLock('dead-taker'));
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    utimesSync(claim, old, old);

    const lock = lockDataDir(dir);
    assert.equal(lockPid(dir), process.pid);
    assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'the claims are cleaned up');
    lock.release();
  });

  for (const start of ['a fresh folder', 'a stale lock'] as const) {
    it(`several processes locking ${start} at the same moment: exactly one wins, the others name it`, async () => {
      const dir = tempDir();
      if (start === 'a stale lock') {
        const dead = await holder(dir);
        dead.kill('SIGKILL');
        await exited(dead);
      }
      const go = Date.now() + 3_000;
      const script = `
        import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
        const [dir, go] = process.argv.slice(1);
        while (Date.now() < Number(go)) { /* start together */ }
        try {
          lockDataDir(dir);
          process.stdout.write(JSON.stringify({ won: process.pid }) + '\\n');
          process.stdin.resume().on('end', () => process.exit(0));
        } catch (err) {
          process.stdout.write(JSON.stringify({ refused: err.pid ?? null, name: err.name, message: err.message }) + '\\n');
        }
      `;
      const racers = Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, String(go)], { stdio: ['pipe', 'pipe', 'pipe'] });
        children.add(child);
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
        child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
        return { child, out: () => out };
      });
      const deadline = Date.now() + 30_000;
      while (!racers.every((r) => r.out().includes('\n'))) {
        assert.ok(Date.now() < deadline, racers.map((r) => r.out()).join('\n'));
        await sleep(20);
      }
      const results = racers.map((r) => JSON.parse(r.out().split('\n')[0]) as { won?: number; refused?: number | null; name?: string });
      const winners = results.filter((r) => r.won !== undefined);
      assert.equal(winners.length, 1, JSON.stringify(results));
      const winner = winners[0].won!;
      for (const r of results.filter((x) => x.won === undefined)) {
        assert.equal(r.name, 'DataDirLockedError', JSON.stringify(r));
        assert.equal(r.refused, winner, JSON.stringify(results));
      }
      assert.equal(lockPid(dir), winner);
      assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'no claim or temporary file left');
      for (const r of racers) r.child.stdin!.end();
      await Promise.all(racers.map((r) => exited(r.child)));
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  it('under take-overs again and again by several processes, never two hold the lock at once', async () => {
    const dir = tempDir();
    const barrier = tempDir();
    const racerCount = 4;
    // Each racer, whenever it wins, marks its turn with a file only one can create, then leaves
    // its lock behind as a dead holder would (stale), for the others to take over.
    const script = `
      import { readdirSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
      import { randomUUID } from 'node:crypto';
      import path from 'node:path';
      import { LOCK_FILE, lockDataDir, STALE_AFTER_MS } from ${JSON.stringify(LOCK_MODULE)};
      const [dir, barrier, count] = process.argv.slice(1);
      writeFileSync(path.join(barrier, String(process.pid)), '');
      while (readdirSync(barrier).length < Number(count)) { /* start together */ }
      const until = Date.now() + 2_500;
      let wins = 0;
      let refusals = 0;
      let overlaps = 0;
      while (Date.now() < until) {
        let lock;
        try {
          lock = lockDataDir(dir);
        } catch (err) {
          if (err.name !== 'DataDirLockedError') throw err;
          refusals++;
          continue;
        }
        wins++;
        const turn = path.join(dir, 'turn');
        try {
          writeFileSync(turn, String(process.pid), { flag: 'wx' });
        } catch {
          overlaps++;
          lock.release();
          continue;
        }
        const t = Date.now() + 1;
        while (Date.now() < t) { /* hold it a moment */ }
        unlinkSync(turn);
        const stale = JSON.stringify({ pid: 1, host: 'gone', machine: 'gone', startedAt: '', nonce: randomUUID() });
        const temp = path.join(dir, 'stale-' + process.pid);
        writeFileSync(temp, stale);
        const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
        utimesSync(temp, old, old);
        renameSync(temp, lock.file);
        lock.release();
      }
      process.stdout.write(JSON.stringify({ wins, refusals, overlaps }) + '\\n');
    `;
    const racers = Array.from({ length: racerCount }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, barrier, String(racerCount)], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      return { child, out: () => out };
    });
    const exits = await Promise.all(racers.map((r) => exited(r.child)));
    const outputs = racers.map((r) => r.out());
    assert.ok(exits.every((e) => e.code === 0), outputs.join('\n'));
    const totals = outputs.map((o) => JSON.parse(o) as { wins: number; refusals: number; overlaps: number });
    assert.equal(totals.reduce((n, t) => n + t.overlaps, 0), 0, `two held the lock at once: ${JSON.stringify(totals)}`);
    assert.ok(totals.reduce((n, t) => n + t.wins, 0) > 50, `enough take-overs to mean something: ${JSON.stringify(totals)}`);
    assert.ok(totals.filter((t) => t.wins > 0).length > 1, `the lock went round: ${JSON.stringify(totals)}`);
  });
});
