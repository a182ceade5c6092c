// The test environment's controls from the command line: `clock`, `reset` and `fault`, each a call to
// a running server's /admin API (--url or VIPPS_PSP_URL, --admin-token or ADMIN_TOKEN; --json for
// scripts). Exit codes: 0 done, 1 the server refused or could not be reached, 2 a usage error.
import { runApiCommand, table, UsageError, type ApiCommand as Command } from './api-command.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90", "90s", "10m", "1.5h", "2d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd]?)$/i.exec(text.trim());
  if (!match) throw new UsageError(`"${text}" is not a duration: give a number with s, m, h or d (10m, 2h, 1d)`);
  return Number(match[1]) * UNITS[(match[2] || 's').toLowerCase()];
}

function clockLine(r: unknown): string {
  const c = r as { now: string; offsetSeconds: number };
  const ahead = c.offsetSeconds === 0 ? 'the real time' : `${c.offsetSeconds} s ahead of the real time`;
  return `Server time ${c.now} (${ahead})`;
}

function intOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${String(value)}"`);
  return Number(value);
}

const GROUPS: Record<string, Record<string, Command>> = {
  clock: {
    show: {
      usage: 'clock show', summary: 'The server\'s time and how far it is ahead', options: {},
      run: (call) => call('GET', '/admin/clock'),
      human: clockLine,
    },
    advance: {
      usage: 'clock advance DURATION', summary: 'Move the server\'s clock forward by 10m, 2h, 1d (or --to TIME); expired payments time out at once',
      options: { to: { type: 'string' } },
      async run(call, v, positionals) {
        if (typeof v.to === 'string') {
          if (positionals.length > 0) throw new UsageError('give either a duration or --to TIME');
          return call('POST', '/admin/clock/advance', { to: v.to });
        }
        if (positionals.length !== 1) throw new UsageError('give how far to move: vipps-psp clock advance 10m');
        return call('POST', '/admin/clock/advance', { seconds: parseDuration(positionals[0]) });
      },
      human: clockLine,
    },
    reset: {
      usage: 'clock reset', summary: 'Return the server\'s clock to the real time', options: {},
      run: (call) => call('POST', '/admin/clock/reset'),
      human: clockLine,
    },
  },
  reset: {
    '': {
      usage: 'reset [--psp PSP_ID]', summary: 'Delete payments, their logs and attempts, status updates, batch runs and idempotency keys (of one PSP with --psp)',
      options: { psp: { type: 'string' } },
      run: (call, v) => call('POST', '/admin/reset', typeof v.psp === 'string' ? { pspId: v.psp } : {}),
      human(r) {
        const x = r as { pspId: string | null; deleted: Record<string, number> };
        const counts = Object.entries(x.deleted).map(([table, n]) => `${table} ${n}`).join(', ');
        return `Reset ${x.pspId === null ? 'every PSP' : `PSP ${x.pspId}`}: deleted ${counts}`;
      },
    },
  },
  fault: {
    add: {
      usage: 'fault add --route ROUTE [effect] [scope]',
      summary: 'Add a fault rule: --route accessToken|init|details|updatestatus|approve|signup|makePayment|' +
        'epaymentCreate|epaymentGet|epaymentAdjust|epaymentApprove|cardCallback|webhook; ' +
        'effect --status 500|502|503|429 (--retry-after S), --delay MS, --drop; scope --psp, --msn, --psp-transaction-id; ' +
        'how often --times N or --probability P, --ttl DURATION',
      options: {
        route: { type: 'string' }, status: { type: 'string' }, 'retry-after': { type: 'string' }, delay: { type: 'string' }, drop: { type: 'boolean' },
        psp: { type: 'string' }, msn: { type: 'string' }, 'psp-transaction-id': { type: 'string' },
        times: { type: 'string' }, probability: { type: 'string' }, ttl: { type: 'string' },
      },
      async run(call, v) {
        if (typeof v.route !== 'string') throw new UsageError('--route is required');
        const body: Record<string, unknown> = { route: v.route };
        const status = intOption('status', v.status);
        if (status !== undefined) body.status = status;
        const retryAfter = intOption('retry-after', v['retry-after']);
        if (retryAfter !== undefined) body.retryAfterSeconds = retryAfter;
        const delay = intOption('delay', v.delay);
        if (delay !== undefined) body.delayMs = delay;
        if (v.drop === true) body.drop = true;
        if (typeof v.psp === 'string') body.pspId = v.psp;
        if (typeof v.msn === 'string') body.msn = v.msn;
        if (typeof v['psp-transaction-id'] === 'string') body.pspTransactionId = v['psp-transaction-id'];
        const times = intOption('times', v.times);
        if (times !== undefined) body.times = times;
        if (typeof v.probability === 'string') {
          const p = Number(v.probability);
          if (v.probability.trim() === '' || Number.isNaN(p)) throw new UsageError(`--probability must be a number from 0 to 1, got "${v.probability}"`);
          body.probability = p;
        }
        if (typeof v.ttl === 'string') body.ttlSeconds = Math.round(parseDuration(v.ttl));
        return call('POST', '/admin/faults', body);
      },
      human: (r) => `Added fault rule ${(r as { id: number }).id}\n${faultTable([r as Record<string, unknown>])}`,
    },
    list: {
      usage: 'fault list', summary: 'List the fault rules and how often each has fired', options: {},
      run: (call) => call('GET', '/admin/faults'),
      human: (r) => faultTable((r as { faults: Array<Record<string, unknown>> }).faults),
    },
    remove: {
      usage: 'fault remove ID', summary: 'Remove one fault rule', options: {},
      async run(call, _v, positionals) {
        if (positionals.length !== 1 || !/^\d+$/.test(positionals[0])) throw new UsageError('give the rule\'s id: vipps-psp fault remove 3');
        await call('DELETE', `/admin/faults/${positionals[0]}`);
        return { removed: 1 };
      },
      human: () => 'Removed the fault rule',
    },
    clear: {
      usage: 'fault clear', summary: 'Remove every fault rule', options: {},
      run: (call) => call('DELETE', '/admin/faults'),
      human: (r) => `Removed ${(r as { removed: number }).removed} fault rule(s)`,
    },
  },
};

function faultTable(rules: Array<Record<string, unknown>>): string {
  return table(rules.map((r) => ({
    ...r,
    effect: [r.status !== null ? `status ${String(r.status)}` : '', r.delayMs ? `delay ${String(r.delayMs)} ms` : '', r.drop ? 'drop' : ''].filter(Boolean).join(', '),
    scope: [r.pspId ? `psp ${String(r.pspId)}` : '', r.msn ? `msn ${String(r.msn)}` : '', r.pspTransactionId ? `tx ${String(r.pspTransactionId)}` : ''].filter(Boolean).join(', ') || 'all',
  })), ['id', 'route', 'effect', 'scope', 'remaining', 'probability', 'hits', 'expiresAt']);
}

/** One line per command, for the command's overview. */
export const controlUsage: Array<{ usage: string; summary: string }> = Object.values(GROUPS).flatMap((g) => Object.values(g).map((c) => ({ usage: c.usage, summary: c.summary.split(';')[0] })));

/** Runs `vipps-psp clock|reset|fault …`; undefined when `group` is none of them. */
export async function runControlCommand(group: string, rest: string[]): Promise<number | undefined> {
  const commands = GROUPS[group];
  if (!commands) return undefined;
  let command = commands[''];
  let args = rest;
  if (!command) {
    const [action, ...more] = rest;
    command = commands[action ?? ''];
    args = more;
    if (!command) {
      process.stdout.write(`Usage:\n${Object.values(commands).map((c) => `  vipps-psp ${c.usage.padEnd(40)} ${c.summary.split(';')[0]}`).join('\n')}\n`);
      return action === undefined || action === '--help' || action === '-h' ? 0 : 2;
    }
  }
  return runApiCommand(command, args);
}
