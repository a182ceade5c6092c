// The `vipps-psp` command: start the server, run migrations, and operator commands that call a
// running server's /admin API. The server, the database drivers and the seed are imported only by
// `start` and `migrate`: loading them takes seconds, which --help and the operator commands (plain
// HTTP calls) never need.
//
// Every command is one entry of COMMANDS: its first word, its lines in the top-level help and the
// function that runs it. A new command is a new entry (its code may live in a file of its own).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, SETTINGS, type Config } from '../config.ts';
import { assertDataDirFree, DataDirLockedError, isNewDataDir } from '../store/data-dir-lock.ts';
import { hasPackagedImage } from '../store/packaged-image.ts';
import type { DEMO } from '../operations/seed.ts';
import type { AdminToken } from '../operations/admin-token.ts';
import { adminCommands, runAdminCommand } from './admin.ts';
import { API_OPTIONS_HELP } from './api-command.ts';
import { controlUsage, runControlCommand } from './control.ts';
import { isWorker, reportReady, startPrimary } from './cluster.ts';
import { portProblem, probePort } from './port.ts';

export interface Command {
  /** The first word after `vipps-psp`. */
  name: string;
  /** Its lines in the top-level help: how it is called and what it does, in one line each. */
  help: ReadonlyArray<{ usage: string; summary: string }>;
  /** Runs it with the words after the name; resolves with the exit code. */
  run(args: string[]): Promise<number>;
}

/** A usage error: printed with a pointer to the help, exit code 2. */
class UsageError extends Error {}

/** A failure the user can act on: the message alone, exit code 1. */
class StartError extends Error {}

/** The version in package.json, two folders up from this file in src/ and in a built dist/ alike. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The settings, one a line, names aligned. */
function settingsHelp(names?: string[]): string {
  const shown = names ? SETTINGS.filter((s) => names.includes(s.name)) : SETTINGS;
  const width = Math.max(...shown.map((s) => s.name.length)) + 1;
  return shown.map((s) => `  ${s.name.padEnd(width)} ${s.description} Default: ${s.default}`).join('\n');
}

/** The settings a first start is most likely to need; `start --help` and the configuration guide (docs/configuration.md, /guide/configuration) list all. */
const MAIN_SETTINGS = ['PORT', 'HOST', 'PUBLIC_URL', 'DATABASE_URL', 'DATA_DIR', 'VIPPS_ENV', 'ADMIN_TOKEN', 'LOG_LEVEL', 'LOG_FORMAT', 'WORKERS'];

function topLevelHelp(): string {
  const lines = COMMANDS.flatMap((c) => c.help);
  const width = Math.max(...lines.map((l) => l.usage.length)) + 2;
  const adminGroups = [...new Set(adminCommands.map((c) => c.group))].join(', ');
  return `vipps-psp ${version()} — a self-hostable Vipps PSP API v3 server

Usage: vipps-psp <command> [options]

Commands:
${lines.map((l) => `  ${l.usage.padEnd(width)}${l.summary}`).join('\n')}

Options of the operator commands (${adminGroups}), which call a running server's /admin API:
${API_OPTIONS_HELP}

Options of every command:
  -h, --help           help; "vipps-psp <command> --help" for one command's
  -v, --version        print the version (also without a command)

Main settings of start (environment variables; all of them: "vipps-psp start --help", or the manual's "Configuration" at /guide/configuration):
${settingsHelp(MAIN_SETTINGS)}
`;
}

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Writes a progress line to stderr (stdout carries the banner and the log). */
function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Migrations in the drizzle folder (two folders up from here, as for the database code). */
function migrationCount(): number {
  const journal = JSON.parse(readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/**
 * Before the database is opened: refuses at once a DATA_DIR another process has open (opening takes
 * the lock itself, store/db.ts; this only makes the refusal quick), creates a missing PostgreSQL
 * database, and tells when this is the first start on the data, which takes seconds. Returns a
 * function to call once the database is ready, which reports how long it took (on a first start only).
 */
async function prepareDatabase(c: Config): Promise<() => void> {
  const started = performance.now();
  let fresh = false;
  if (c.databaseUrl) {
    const { ensureDatabase, DatabaseMissingError } = await import('../store/create-database.ts');
    try {
      const result = await ensureDatabase(c.databaseUrl);
      if (result.created) {
        fresh = true;
        progress(`Created database "${result.name}" on ${result.where}; applying the migrations…`);
      }
    } catch (err) {
      if (err instanceof DatabaseMissingError) throw new StartError(err.message);
      throw err;
    }
  } else if (c.dataDir !== 'memory://') {
    assertDataDirFree(c.dataDir);
    if (isNewDataDir(c.dataDir)) {
      fresh = true;
      progress(hasPackagedImage()
        ? `Creating the embedded database in ${c.dataDir} from the packaged database image (first start)…`
        : `Creating the embedded database in ${c.dataDir} (first start, takes a few seconds)…`);
    }
  }
  return () => {
    if (fresh) progress(`Database ready (${migrationCount()} migrations applied) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
}

function adminTokenLine(c: Config, admin: Pick<AdminToken, 'source' | 'generated'>): string {
  switch (admin.source) {
    case 'generated':
      return `  Operator API token (shown once; set ADMIN_TOKEN to choose your own): ${admin.generated}`;
    case 'stored':
      return '  Operator API token: the one printed on the first start, stored (hashed) in the database; it cannot be\n' +
        '  shown again. Lost it? Start with ADMIN_TOKEN set to a token of your choice (the stored one is then not accepted).';
    case 'env':
      return '  Operator API token: ADMIN_TOKEN';
    case 'disabled':
      return `  Operator API: off (VIPPS_ENV=${c.vippsEnv} without ADMIN_TOKEN)`;
  }
}

function banner(c: Config, url: string, database: string, admin: Pick<AdminToken, 'source' | 'generated'>, demo: typeof DEMO): string {
  const lines = [
    '',
    `  vipps-psp is listening on ${c.publicUrl}  (bound to ${url.replace('127.0.0.1', c.host)})`,
    `  environment: ${c.vippsEnv}    database: ${database}${c.workers > 1 ? `    workers: ${c.workers}` : ''}`,
    '',
    `  Start here: ${c.publicUrl}/  (what this server is, and links to the docs)`,
    `  The manual: ${c.publicUrl}/guide`,
    adminTokenLine(c, admin),
  ];
  if (c.vippsEnv === 'test') {
    lines.push(
      '',
      '  Demo credentials (test environment):',
      `    Psp-Id:                    ${demo.psp.pspId}`,
      `    Ocp-Apim-Subscription-Key: ${demo.psp.subscriptionKey}`,
      `    client_id:                 ${demo.psp.clientId}`,
      `    client_secret:             ${demo.psp.clientSecret}`,
      `    Merchant-Serial-Number:    ${demo.msn} (${demo.merchantName})`,
      `    test user:                 ${demo.userPhone} (VISA)`,
      '',
      '  Get an access token:',
      `    curl -X POST ${c.publicUrl}/accessToken/get \\`,
      `      -H "client_id: ${demo.psp.clientId}" \\`,
      `      -H "client_secret: ${demo.psp.clientSecret}" \\`,
      `      -H "Ocp-Apim-Subscription-Key: ${demo.psp.subscriptionKey}" --data ''`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function helpOnly(args: string[]): boolean {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true });
  return values.help === true;
}

async function start(args: string[]): Promise<number> {
  if (helpOnly(args)) {
    process.stdout.write(`Usage: vipps-psp start\n\nStarts the server. Configure it with environment variables:\n${settingsHelp()}\n`);
    return 0;
  }
  const c = config();
  const worker = isWorker();
  // Before anything is created: a busy port is one clear line, and no database or DATA_DIR is left behind.
  if (!worker) {
    const problem = await probePort(c.host, c.port);
    if (problem) throw new StartError(problem);
  }
  // A worker finds the database prepared by the primary.
  const databaseReady = worker ? () => {} : await prepareDatabase(c);
  if (c.workers > 1 && !worker) {
    const seed = await import('../operations/seed.ts');
    await startPrimary(c, (ready) => {
      process.stdout.write(`${banner(c, ready.url, ready.database, { source: ready.adminTokenSource, generated: ready.generatedAdminToken }, seed.DEMO)}\n`);
    });
    return 0;
  }
  const [{ startServer }, seed] = await Promise.all([import('../main.ts'), import('../operations/seed.ts')]);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(c, { onDatabaseReady: databaseReady });
  } catch (err) {
    const problem = portProblem(err, c.host, c.port);
    if (problem) throw new StartError(problem);
    throw err;
  }
  const admin = server.services.adminToken;
  if (worker) {
    reportReady({ url: server.url, database: server.services.database.describe, generatedAdminToken: admin.generated, adminTokenSource: admin.source });
  } else {
    process.stdout.write(`${banner(c, server.url, server.services.database.describe, admin, seed.DEMO)}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Last resort: a promise rejected with nobody to handle it is a bug to fix, but it is logged
  // rather than ending the process and every request in flight with it.
  process.on('unhandledRejection', (reason) => {
    server.app.log.error({ err: reason }, 'unhandled promise rejection');
  });
  return 0;
}

async function runMigrate(args: string[]): Promise<number> {
  if (helpOnly(args)) {
    process.stdout.write('Usage: vipps-psp migrate\n\nCreates the database if it does not exist, applies pending migrations to DATABASE_URL (or the embedded database under DATA_DIR) and exits.\n');
    return 0;
  }
  const c = config();
  const databaseReady = await prepareDatabase(c);
  const { migrate, openDatabase } = await import('../store/db.ts');
  const database = await openDatabase({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, poolSize: 2 });
  try {
    await migrate(database);
    databaseReady();
    process.stdout.write(`Migrations applied to ${database.describe}\n`);
  } finally {
    await database.close();
  }
  return 0;
}

async function help(args: string[]): Promise<number> {
  const name = args[0]?.startsWith('-') ? undefined : args[0];
  const command = name === undefined ? undefined : COMMANDS.find((c) => c.name === name);
  if (command && command.name !== 'help') return command.run(['--help']);
  if (name !== undefined && !command) throw new UsageError(`Unknown command "${name}".`);
  process.stdout.write(topLevelHelp());
  return 0;
}

/** One entry per group of operator commands (`psp create`, `psp list` → `psp`). */
const ADMIN_GROUPS: Command[] = [...new Set(adminCommands.map((c) => c.group))].map((group) => ({
  name: group,
  help: adminCommands.filter((c) => c.group === group).map((c) => ({ usage: c.usage, summary: c.summary })),
  run: async (args) => (await runAdminCommand(group, args)) ?? 2,
}));

/** The test environment's controls (clock, reset, fault), grouped by their first word. */
const CONTROL_GROUPS: Command[] = [...new Set(controlUsage.map((c) => c.usage.split(' ')[0]))].map((group) => ({
  name: group,
  help: controlUsage.filter((c) => c.usage.split(' ')[0] === group),
  run: async (args) => (await runControlCommand(group, args)) ?? 2,
}));

export const COMMANDS: Command[] = [
  { name: 'start', help: [{ usage: 'start', summary: 'Start the server (creates and migrates the database first)' }], run: start },
  { name: 'migrate', help: [{ usage: 'migrate', summary: 'Create the database if needed, apply migrations and exit' }], run: runMigrate },
  ...ADMIN_GROUPS,
  ...CONTROL_GROUPS,
  {
    name: 'readiness', help: [{ usage: 'readiness PSP_ID', summary: 'The same as psp readiness PSP_ID' }],
    run: async (args) => (await runAdminCommand('psp', ['readiness', ...args])) ?? 2,
  },
  { name: 'help', help: [{ usage: 'help [COMMAND]', summary: 'This help, or one command\'s' }], run: help },
  {
    name: 'version', help: [{ usage: 'version', summary: 'Print the version' }],
    run: async () => { process.stdout.write(`${version()}\n`); return 0; },
  },
];

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const name = first === undefined || first === '--help' || first === '-h' ? 'help'
    : first === '--version' || first === '-v' ? 'version'
      : first;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) fail(`Unknown command "${name}". Run "vipps-psp --help".`, 2);
  try {
    const code = await command.run(name === first ? rest : []);
    if (code !== 0) process.exit(code);
  } catch (err) {
    if (err instanceof StartError || err instanceof DataDirLockedError) fail(err.message, 1);
    if (err instanceof UsageError) fail(`${err.message}\nRun "vipps-psp ${command.name === 'help' ? '' : `${command.name} `}--help".`, 2);
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) fail(`${err.message}\nRun "vipps-psp ${name} --help".`, 2);
    throw err;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
