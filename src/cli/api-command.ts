// What every command that calls a running server's /admin API shares: its common options (--url or
// VIPPS_PSP_URL, --admin-token or ADMIN_TOKEN, --json), its help, the call itself with the server's
// problem answers turned into one readable line, the output, and the exit codes (0 done, 1 the
// server refused or could not be reached, 2 a usage error).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** One call to the server: the parsed JSON answer (or its text); a CallError for any non-2xx. */
export type Call = (method: string, path: string, body?: unknown) => Promise<unknown>;

export interface ApiCommand {
  usage: string;
  summary: string;
  options: Options;
  run(call: Call, values: Record<string, unknown>, positionals: string[]): Promise<unknown>;
  human(result: unknown): string;
}

/** A bad command line: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

class CallError extends Error {
  readonly body: unknown;
  constructor(message: string, body?: unknown) {
    super(message);
    this.body = body;
  }
}

const COMMON: Options = {
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The options every such command takes, one a line (the top-level help prints them too). */
export const API_OPTIONS_HELP = [
  '  --url URL            server to call (env VIPPS_PSP_URL, default http://localhost:$PORT)',
  '  --admin-token TOKEN  operator token (env ADMIN_TOKEN)',
  '  --json               print the raw JSON answer',
].join('\n');

/** Rows as a plain-text table with a header line; null and missing cells are empty. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

function commandHelp(c: Pick<ApiCommand, 'usage' | 'summary' | 'options'>): string {
  const own = Object.entries(c.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}`).join('\n');
  return `Usage: vipps-psp ${c.usage}\n\n${c.summary}.\n\nOptions:\n${own ? `${own}\n` : ''}${API_OPTIONS_HELP}\n` +
    '  -h, --help           this help\n';
}

function callerOf(base: string, token: string | undefined): Call {
  return async (method, path, body) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as Error).cause;
      throw new CallError(`Could not reach ${base}: ${cause instanceof Error ? cause.message : (err as Error).message}`);
    }
    const text = await response.text();
    let answer: unknown = text;
    try { answer = JSON.parse(text); } catch { /* keep the text */ }
    if (!response.ok) {
      const problem = typeof answer === 'object' && answer !== null ? answer as { detail?: unknown; extraDetails?: Array<{ name: string; reason: string }> } : {};
      const extra = (problem.extraDetails ?? []).map((d) => `\n  ${d.name}: ${d.reason}`).join('');
      throw new CallError(`${response.status}: ${problem.detail === undefined ? text : String(problem.detail)}${extra}`, answer);
    }
    return answer;
  };
}

/** Parses `args` for `command`, calls the server and prints the answer; returns the exit code. */
export async function runApiCommand(command: ApiCommand, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const base = (typeof values.url === 'string' ? values.url : process.env.VIPPS_PSP_URL ?? `http://localhost:${process.env.PORT ?? 8080}`).replace(/\/+$/, '');
  const token = typeof values['admin-token'] === 'string' ? values['admin-token'] : process.env.ADMIN_TOKEN;
  try {
    const result = await command.run(callerOf(base, token), values, positionals);
    process.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : command.human(result)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (err instanceof CallError) {
      if (values.json && err.body !== undefined) process.stdout.write(`${JSON.stringify(err.body, null, 2)}\n`);
      else process.stderr.write(`Error ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
