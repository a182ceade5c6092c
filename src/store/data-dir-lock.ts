// One process per embedded data folder. PGlite holds the database in the memory of the process
// that opened it and writes the folder as if it were alone there: a second process on the same
// folder overwrites what the first one acknowledged. `vipps-psp.lock` in the folder names the
// process that has the folder open; every other opener is refused until that process is gone.
//
// Whether the holder is gone:
// - a holder on this machine, in this PID namespace and since this boot, is alive while its PID
//   is (a kill -9 leaves the file behind and the next opener takes it over at once). A lock that
//   names our own PID but that we do not hold was left by an earlier process that had our PID
//   (after a reboot, or as PID 1 of a restarted container), so it is stale too;
// - a holder elsewhere (another container sharing the volume, another host, before a reboot)
//   cannot be asked; it refreshes the file's modification time while it runs, and its lock is
//   stale once that time is older than STALE_AFTER_MS.
//
// Taking over a stale lock is a compare-and-swap: the taker first claims that very lock by
// creating `vipps-psp.lock.takeover-<nonce>-1` exclusively, checks that the lock still carries
// that nonce, and only then replaces it by a rename. Of several openers that find the same stale
// lock, one wins the claim; the others then find the winner's lock. A claimant that died in the
// middle is superseded by claim number 2, and so on.
import { randomUUID } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, unlinkSync, utimesSync,
  writeFileSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'vipps-psp.lock';

/** How long a lock from elsewhere stays alive without its holder refreshing it. */
export const STALE_AFTER_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** How long an opener retries while a take-over by another opener is in progress. */
const SETTLE_MS = 2_000;

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Boot and PID namespace on Linux, else the host name: where `pid` can be checked. */
  machine: string;
  startedAt: string;
  nonce: string;
}

export class DataDirLockedError extends Error {
  readonly dataDir: string;
  readonly pid: number | undefined;

  constructor(dataDir: string, holder: LockHolder | undefined) {
    const who = holder === undefined
      ? 'another process'
      : `process ${holder.pid}${holder.host === hostname() ? '' : ` on host ${holder.host}`}`;
    super(
      `DATA_DIR ${dataDir} is in use by ${who}: the embedded database serves one process; ` +
      'to run several processes, set DATABASE_URL to a PostgreSQL server.',
    );
    this.name = 'DataDirLockedError';
    this.dataDir = dataDir;
    this.pid = holder?.pid;
  }
}

export interface DataDirLock {
  /** The lock file. */
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Nonces of the locks this process holds, with their release functions. */
const held = new Map<string, () => void>();
let exitHookInstalled = false;

let machineId: string | undefined;
function machine(): string {
  if (machineId === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      machineId = `linux ${boot} ${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      machineId = `host ${hostname()}`;
    }
  }
  return machineId;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

interface Observed {
  /** Undefined when the content is not a lock we can read (being written, or damaged). */
  holder: LockHolder | undefined;
  /** Identifies this very lock file: the holder's nonce, or the inode when unreadable. */
  nonce: string;
  mtimeMs: number;
}

const NONCE = /^[A-Za-z0-9-]{1,100}$/;

function parseHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return undefined;
  if (typeof v.nonce !== 'string' || !NONCE.test(v.nonce)) return undefined;
  return {
    pid: v.pid as number,
    host: typeof v.host === 'string' ? v.host : '',
    machine: typeof v.machine === 'string' ? v.machine : '',
    startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
    nonce: v.nonce,
  };
}

/** Reads a lock or claim file; undefined when there is none. */
function observe(file: string): Observed | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    const holder = parseHolder(readFileSync(fd, 'utf8'));
    return { holder, nonce: holder?.nonce ?? `inode-${stat.ino}`, mtimeMs: stat.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

function alive(o: Observed): boolean {
  const h = o.holder;
  if (h !== undefined && h.machine === machine()) {
    if (h.pid === process.pid) return held.has(h.nonce);
    return pidAlive(h.pid);
  }
  return Date.now() - o.mtimeMs < STALE_AFTER_MS;
}

/** Creates `file` with `content` unless it exists; the content is complete when the file appears. */
function createExclusive(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, content, { flag: 'wx' });
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errorCode(err) ?? '')) throw err;
  } finally {
    try { unlinkSync(temp); } catch { /* already gone */ }
  }
  // A file system without hard links: create in place (a reader may briefly see it empty, which
  // counts as alive while fresh).
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeQuietly(file: string): void {
  try { unlinkSync(file); } catch { /* already gone */ }
}

/**
 * Replaces the stale lock identified by `staleNonce` with ours. False when another opener got
 * there first or is doing it now: the caller looks again.
 */
function takeOver(file: string, staleNonce: string, content: string): boolean {
  const claim = (n: number) => `${file}.takeover-${staleNonce}-${n}`;
  for (let n = 1; n <= 100; n++) {
    if (createExclusive(claim(n), content)) {
      try {
        // Only a holder of a claim on this nonce replaces this lock, so if it still carries the
        // nonce now, it does until our rename.
        if (observe(file)?.nonce !== staleNonce) return false;
        const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
        writeFileSync(temp, content, { flag: 'wx' });
        try {
          renameSync(temp, file);
        } catch (err) {
          removeQuietly(temp);
          throw err;
        }
        return true;
      } finally {
        for (let m = 1; m <= n; m++) removeQuietly(claim(m));
      }
    }
    const claimant = observe(claim(n));
    // Gone: the take-over it made is finished. Alive: it is being made now.
    if (claimant === undefined || alive(claimant)) return false;
  }
  return false;
}

function hold(file: string, me: LockHolder): DataDirLock {
  const heartbeat = setInterval(() => {
    try {
      if (observe(file)?.nonce === me.nonce) {
        const now = new Date();
        utimesSync(file, now, now);
      }
    } catch { /* try again at the next beat */ }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const release = () => {
    if (!held.delete(me.nonce)) return;
    clearInterval(heartbeat);
    try {
      if (observe(file)?.nonce === me.nonce) unlinkSync(file);
    } catch { /* nothing more to do */ }
  };
  held.set(me.nonce, release);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // An exit without close leaves the folder as a kill would: release so the next opener need not
    // judge the lock.
    process.on('exit', () => {
      for (const r of [...held.values()]) r();
    });
  }
  return { file, release };
}

/**
 * Throws DataDirLockedError when a live process holds `dataDir`, without creating or changing
 * anything. A cheap early check; `lockDataDir` is what actually takes the lock.
 */
export function assertDataDirFree(dataDir: string): void {
  const folder = path.resolve(dataDir);
  const current = observe(path.join(folder, LOCK_FILE));
  if (current !== undefined && alive(current)) throw new DataDirLockedError(folder, current.holder);
}

/**
 * Takes the lock on `dataDir` (created if missing) for this process, or throws DataDirLockedError
 * naming the process that holds it. A second lock on the same folder within this process is
 * refused too.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const folder = path.resolve(dataDir);
  const file = path.join(folder, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), machine: machine(), startedAt: new Date().toISOString(), nonce: randomUUID() };
  const content = `${JSON.stringify(me)}\n`;
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const current = observe(file);
    if (current === undefined) {
      mkdirSync(folder, { recursive: true });
      if (createExclusive(file, content)) return hold(file, me);
    } else if (alive(current)) {
      throw new DataDirLockedError(folder, current.holder);
    } else if (takeOver(file, current.nonce, content)) {
      return hold(file, me);
    }
    if (Date.now() > deadline) throw new DataDirLockedError(folder, observe(file)?.holder);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** Whether DATA_DIR holds no embedded database yet (its first start creates one). */
export function isNewDataDir(dataDir: string): boolean {
  return !existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'));
}
