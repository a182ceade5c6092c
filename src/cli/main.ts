// The `vipps-psp` command: start the server, run migrations, and operator commands that call a
// running server's /admin API. The server, the database drivers and the seed are imported only by
// `start` and `migrate`: loading them takes seconds, which --help and the operator commands (plain
// HTTP calls) never need.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, SETTINGS, type Config } from '../config.ts';
import { assertDataDirFree, DataDirLockedError } from '../store/data-dir-lock.ts';
import type { DEMO } from '../operations/seed.ts';
import { adminCommands, runAdminCommand } from './admin.ts';
import { controlUsage, runControlCommand } from './control.ts';
import { isWorker, reportReady, startPrimary } from './cluster.ts';

/** The settings, one a line, names aligned. */
const SETTINGS_HELP = (() => {
  const width = Math.max(...SETTINGS.map((s) => s.name.length)) + 1;
  return SETTINGS.map((s) => `  ${s.name.padEnd(width)} ${s.description} Default: ${s.default}`).join('\n');
})();

const HELP = `vipps-psp — a self-hostable Vipps PSP API v3 server

Usage: vipps-psp <command> [options]

Commands:
  start                                    Start the server (migrates the database first)
  migrate                                  Apply database migrations and exit
${adminCommands.map((c) => `  ${c.usage.padEnd(40)} ${c.summary}`).join('\n')}
${controlUsage.map((c) => `  ${c.usage.padEnd(40)} ${c.summary}`).join('\n')}

Run "vipps-psp <command> --help" for a command's options.

Configuration (environment variables):
${SETTINGS_HELP}
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/**
 * Refuses at once, before the slow imports, a folder that another process has open. Opening the
 * database takes the lock itself (store/db.ts); this only makes the refusal quick.
 */
function checkDataDir(c: Config): void {
  if (!c.databaseUrl && c.dataDir !== 'memory://') assertDataDirFree(c.dataDir);
}

function banner(c: Config, url: string, database: string, generatedAdminToken: string | undefined, demo: typeof DEMO): string {
  const lines = [
    '',
    `  vipps-psp is listening on ${c.publicUrl}  (bound to ${url.replace('127.0.0.1', c.host)})`,
    `  environment: ${c.vippsEnv}    database: ${database}${c.workers > 1 ? `    workers: ${c.workers}` : ''}`,
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
  if (generatedAdminToken) {
    lines.push('', `  Operator API token (shown once; set ADMIN_TOKEN to choose your own): ${generatedAdminToken}`);
  }
  lines.push('');
  return lines.join('\n');
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`Usage: vipps-psp start\n\nStarts the server. Configure it with environment variables:\n${SETTINGS_HELP}\n`);
    return;
  }
  const c = config();
  checkDataDir(c);
  if (c.workers > 1 && !isWorker()) {
    const seed = await import('../operations/seed.ts');
    await startPrimary(c, (ready) => {
      process.stdout.write(`${banner(c, ready.url, ready.database, ready.generatedAdminToken, seed.DEMO)}\n`);
    });
    return;
  }
  const [{ startServer }, seed] = await Promise.all([import('../main.ts'), import('../operations/seed.ts')]);
  const server = await startServer(c);
  if (isWorker()) {
    reportReady({ url: server.url, database: server.services.database.describe, generatedAdminToken: server.services.adminToken.generated });
  } else {
    process.stdout.write(`${banner(c, server.url, server.services.database.describe, server.services.adminToken.generated, seed.DEMO)}\n`);
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
}

async function runMigrate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write('Usage: vipps-psp migrate\n\nApplies pending migrations to DATABASE_URL (or the embedded database under DATA_DIR) and exits.\n');
    return;
  }
  const c = config();
  checkDataDir(c);
  const { migrate, openDatabase } = await import('../store/db.ts');
  const database = await openDatabase({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, poolSize: 2 });
  try {
    await migrate(database);
    process.stdout.write(`Migrations applied to ${database.describe}\n`);
  } finally {
    await database.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  try {
    if (command === 'start') return await start(rest);
    if (command === 'migrate') return await runMigrate(rest);
    const code = await runAdminCommand(command, rest) ?? await runControlCommand(command, rest);
    if (code === undefined) fail(`Unknown command "${command}". Run "vipps-psp --help".`);
    if (code !== 0) process.exit(code);
  } catch (err) {
    if (err instanceof DataDirLockedError) fail(err.message, 1);
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) fail(`${err.message}\nRun "vipps-psp ${command} --help".`);
    throw err;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
