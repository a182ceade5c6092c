// Operator commands: each calls the /admin API of a running server.
// --url (or VIPPS_PSP_URL, default http://localhost:$PORT) and --admin-token (or ADMIN_TOKEN);
// human output by default, --json for scripts.
import { readFile } from 'node:fs/promises';
import { runApiCommand, table, UsageError, type ApiCommand, type Call, type Options } from './api-command.ts';

interface AdminCommand {
  group: string;
  action: string;
  usage: string;
  summary: string;
  options: Options;
  positionals?: string[];
  run(ctx: Ctx, values: Record<string, unknown>, positionals: string[]): Promise<unknown>;
  human(result: unknown): string;
}

interface Ctx {
  call: Call;
}

function bool(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'yes' || value === 'on') return true;
  if (value === 'false' || value === 'no' || value === 'off') return false;
  throw new UsageError(`--${name} must be true or false, got "${String(value)}"`);
}

export const adminCommands: AdminCommand[] = [
  {
    group: 'psp', action: 'create', usage: 'psp create --name NAME', summary: 'Create a PSP; prints its credentials once',
    options: { name: { type: 'string' } },
    async run(ctx, v) {
      if (typeof v.name !== 'string' || v.name === '') throw new UsageError('--name is required');
      return ctx.call('POST', '/admin/psps', { name: v.name });
    },
    human(r) {
      const p = r as Record<string, string>;
      return [
        `Created PSP "${p.name}". Keep these; the secret and key are not shown again.`,
        `  Psp-Id:                    ${p.pspId}`,
        `  client_id:                 ${p.clientId}`,
        `  client_secret:             ${p.clientSecret}`,
        `  Ocp-Apim-Subscription-Key: ${p.subscriptionKey}`,
      ].join('\n');
    },
  },
  {
    group: 'psp', action: 'list', usage: 'psp list', summary: 'List PSPs',
    options: {},
    run: (ctx) => ctx.call('GET', '/admin/psps'),
    human: (r) => table((r as { psps: Array<Record<string, unknown>> }).psps, ['pspId', 'name', 'clientId', 'createdAt']),
  },
  {
    group: 'psp', action: 'rotate-secret', usage: 'psp rotate-secret PSP_ID', summary: 'Give a PSP a new client_secret (printed once); the old one stops working',
    options: {},
    positionals: ['PSP_ID'],
    async run(ctx, _v, positionals) {
      if (!positionals[0]) throw new UsageError('the PSP id is required: vipps-psp psp rotate-secret C948DFD1546347568874C4DDC93A2E3C');
      return ctx.call('POST', `/admin/psps/${encodeURIComponent(positionals[0])}/rotate-secret`);
    },
    human(r) {
      const p = r as Record<string, string>;
      return [
        `New client_secret for PSP "${p.name}". Keep it; it is not shown again. The old one gets no more access tokens.`,
        `  Psp-Id:        ${p.pspId}`,
        `  client_id:     ${p.clientId}`,
        `  client_secret: ${p.clientSecret}`,
      ].join('\n');
    },
  },
  {
    group: 'psp', action: 'readiness', usage: 'psp readiness PSP_ID', summary: "Print a PSP's go-live readiness report (Markdown; --json for every item)",
    options: {},
    positionals: ['PSP_ID'],
    async run(ctx, _v, positionals) {
      if (!positionals[0]) throw new UsageError('the PSP id is required: vipps-psp psp readiness C948DFD1546347568874C4DDC93A2E3C');
      return ctx.call('GET', `/admin/psps/${encodeURIComponent(positionals[0])}/readiness`);
    },
    human: (r) => String((r as { markdown: string }).markdown).trimEnd(),
  },
  {
    group: 'psp', action: 'key-add', usage: 'psp key-add PSP_ID --file PUBLIC_KEY.pem',
    summary: 'Register an RSA public key for encryptedPan (standalone Dankort); prints its publicEncryptionKeyId (--key-id GUID to choose it)',
    options: { file: { type: 'string' }, 'key-id': { type: 'string' } },
    positionals: ['PSP_ID'],
    async run(ctx, v, positionals) {
      if (!positionals[0]) throw new UsageError('the PSP id is required: vipps-psp psp key-add C948DFD1546347568874C4DDC93A2E3C --file public.pem');
      if (typeof v.file !== 'string' || v.file === '') throw new UsageError('--file is required: the PEM public key (openssl rsa -in private.pem -pubout -out public.pem)');
      let publicKey: string;
      try { publicKey = await readFile(v.file, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${v.file}: ${(e as Error).message}`); }
      return ctx.call('POST', `/admin/psps/${encodeURIComponent(positionals[0])}/encryption-keys`, { publicKey, ...(typeof v['key-id'] === 'string' ? { keyId: v['key-id'] } : {}) });
    },
    human(r) {
      const k = r as Record<string, string>;
      return [`Registered a ${k.bits}-bit RSA key for PSP ${k.pspId}.`, `  publicEncryptionKeyId: ${k.keyId}`, `  fingerprint (sha256):  ${k.fingerprint}`].join('\n');
    },
  },
  {
    group: 'psp', action: 'keys', usage: 'psp keys PSP_ID', summary: "List a PSP's public keys for encryptedPan",
    options: {},
    positionals: ['PSP_ID'],
    async run(ctx, _v, positionals) {
      if (!positionals[0]) throw new UsageError('the PSP id is required: vipps-psp psp keys C948DFD1546347568874C4DDC93A2E3C');
      return ctx.call('GET', `/admin/psps/${encodeURIComponent(positionals[0])}/encryption-keys`);
    },
    human: (r) => table((r as { keys: Array<Record<string, unknown>> }).keys, ['keyId', 'bits', 'fingerprint', 'createdAt']),
  },
  {
    group: 'psp', action: 'key-remove', usage: 'psp key-remove PSP_ID KEY_ID', summary: 'Remove a public key (a standalone Dankort can no longer pay the payments naming it)',
    options: {},
    positionals: ['PSP_ID', 'KEY_ID'],
    async run(ctx, _v, positionals) {
      if (!positionals[0] || !positionals[1]) throw new UsageError('the PSP id and key id are required: vipps-psp psp key-remove PSP_ID KEY_ID');
      await ctx.call('DELETE', `/admin/psps/${encodeURIComponent(positionals[0])}/encryption-keys/${encodeURIComponent(positionals[1])}`);
      return { removed: positionals[1] };
    },
    human: (r) => `Removed key ${(r as { removed: string }).removed}.`,
  },
  {
    group: 'merchant', action: 'list', usage: 'merchant list', summary: 'List merchants of every PSP',
    options: {},
    run: (ctx) => ctx.call('GET', '/admin/merchants'),
    human: (r) => table((r as { merchants: Array<Record<string, unknown>> }).merchants, ['merchantSerialNumber', 'name', 'pspId', 'status', 'skipLandingPage']),
  },
  {
    group: 'merchant', action: 'set', usage: 'merchant set MSN [flags]', summary: 'Set --active and --skip-landing-page (true|false)',
    options: { active: { type: 'string' }, 'skip-landing-page': { type: 'string' } },
    positionals: ['MSN'],
    async run(ctx, v, positionals) {
      const msn = positionals[0];
      if (!msn) throw new UsageError('the merchant serial number is required: vipps-psp merchant set 123456 --active false');
      const body: Record<string, boolean> = {};
      const active = bool('active', v.active);
      const skip = bool('skip-landing-page', v['skip-landing-page']);
      if (active !== undefined) body.active = active;
      if (skip !== undefined) body.skipLandingPage = skip;
      if (Object.keys(body).length === 0) throw new UsageError('give --active and/or --skip-landing-page');
      return ctx.call('PATCH', `/admin/merchants/${encodeURIComponent(msn)}`, body);
    },
    human(r) {
      const m = r as Record<string, unknown>;
      return `Merchant ${String(m.merchantSerialNumber)} (${String(m.name)}): status ${String(m.status)}, skipLandingPage ${String(m.skipLandingPage)}`;
    },
  },
  {
    group: 'user', action: 'create', usage: 'user create --phone NUMBER', summary: 'Create a test user (--name, --card VISA|MASTERCARD|VISA_CREDIT|MASTERCARD_CREDIT|DANKORT|VISA_DANKORT, repeatable; --pin, 4-6 digits)',
    options: { phone: { type: 'string' }, name: { type: 'string' }, card: { type: 'string', multiple: true }, pin: { type: 'string' } },
    async run(ctx, v) {
      if (typeof v.phone !== 'string') throw new UsageError('--phone is required (8 digits)');
      const cards = (v.card as string[] | undefined)?.map((brand) => ({ brand: brand.toUpperCase() }));
      return ctx.call('POST', '/admin/users', {
        phone: v.phone, ...(v.name ? { name: v.name } : {}), ...(cards ? { cards } : {}), ...(typeof v.pin === 'string' ? { pin: v.pin } : {}),
      });
    },
    human(r) {
      const u = r as { phone: string; name: string; hasPin: boolean; cards: Array<{ brand: string; last4: string }> };
      return `Created test user ${u.phone} (${u.name}) with ${u.cards.map((c) => `${c.brand} •••• ${c.last4}`).join(', ')}${u.hasPin ? '; app login PIN set' : ''}`;
    },
  },
  {
    group: 'user', action: 'set-pin', usage: 'user set-pin --phone NUMBER --pin PIN', summary: 'Set a test user\'s app login PIN (4-6 digits), or --remove it',
    options: { phone: { type: 'string' }, pin: { type: 'string' }, remove: { type: 'boolean' } },
    async run(ctx, v) {
      if (typeof v.phone !== 'string') throw new UsageError('--phone is required (8 digits)');
      if ((typeof v.pin === 'string') === (v.remove === true)) throw new UsageError('give either --pin PIN or --remove');
      return ctx.call('PATCH', `/admin/users/${encodeURIComponent(v.phone)}`, { pin: v.remove ? null : v.pin });
    },
    human(r) {
      const u = r as { phone: string; name: string; hasPin: boolean };
      return `Test user ${u.phone} (${u.name}): ${u.hasPin ? 'app login PIN set' : 'no app login PIN'}`;
    },
  },
  {
    group: 'user', action: 'list', usage: 'user list', summary: 'List test users and their cards',
    options: {},
    run: (ctx) => ctx.call('GET', '/admin/users'),
    human(r) {
      const users = (r as { users: Array<{ phone: string; name: string; hasPin: boolean; cards: Array<{ brand: string; last4: string }> }> }).users;
      return table(users.map((u) => ({ phone: u.phone, name: u.name, pin: u.hasPin ? 'yes' : 'no', cards: u.cards.map((c) => `${c.brand} ${c.last4}`).join(', ') })), ['phone', 'name', 'pin', 'cards']);
    },
  },
  {
    group: 'card', action: 'add', usage: 'card add --phone NUMBER --brand B', summary: 'Give a test user another card (VISA, MASTERCARD, VISA_CREDIT, MASTERCARD_CREDIT, DANKORT or VISA_DANKORT)',
    options: { phone: { type: 'string' }, brand: { type: 'string' }, last4: { type: 'string' } },
    async run(ctx, v) {
      if (typeof v.phone !== 'string') throw new UsageError('--phone is required');
      if (typeof v.brand !== 'string') throw new UsageError('--brand is required (VISA, MASTERCARD, VISA_CREDIT, MASTERCARD_CREDIT, DANKORT or VISA_DANKORT)');
      return ctx.call('POST', `/admin/users/${encodeURIComponent(v.phone)}/cards`, { brand: v.brand.toUpperCase(), ...(v.last4 ? { last4: v.last4 } : {}) });
    },
    human(r) {
      const c = r as { brand: string; last4: string };
      return `Added ${c.brand} •••• ${c.last4}`;
    },
  },
  {
    group: 'status-batch', action: 'run', usage: 'status-batch run', summary: 'Apply all stored status updates now',
    options: {},
    run: (ctx) => ctx.call('POST', '/admin/status-batch/run'),
    human(r) {
      const s = r as { runId: number; status: string; applied: number; rejected: number; rejectedByReason: Record<string, number>; durationMs: number };
      const reasons = Object.entries(s.rejectedByReason).map(([k, v]) => `${k} ${v}`).join(', ');
      const how = s.status === 'finished' ? '' : ` (${s.status})`;
      return `Run ${s.runId}${how}: applied ${s.applied}, rejected ${s.rejected}${reasons ? ` (${reasons})` : ''} in ${s.durationMs} ms`;
    },
  },
  {
    group: 'status-batch', action: 'runs', usage: 'status-batch runs', summary: 'List batch runs and the pending count',
    options: { limit: { type: 'string' } },
    run: (ctx, v) => ctx.call('GET', `/admin/status-batch/runs${typeof v.limit === 'string' ? `?limit=${encodeURIComponent(v.limit)}` : ''}`),
    human(r) {
      const b = r as { pending: number; schedule: { cron: string; timeZone: string; mode: string }; runs: Array<Record<string, unknown>> };
      return `Pending updates: ${b.pending}. Schedule: "${b.schedule.cron}" ${b.schedule.timeZone} (${b.schedule.mode})\n` +
        table(b.runs, ['runId', 'trigger', 'status', 'resumesRunId', 'startedAt', 'finishedAt', 'applied', 'rejected', 'durationMs']);
    },
  },
  {
    group: 'status-batch', action: 'rejected', usage: 'status-batch rejected', summary: 'List rejected updates with their reasons (--run-id N)',
    options: { 'run-id': { type: 'string' }, limit: { type: 'string' } },
    run(ctx, v) {
      const q = new URLSearchParams();
      if (typeof v['run-id'] === 'string') q.set('runId', v['run-id']);
      if (typeof v.limit === 'string') q.set('limit', v.limit);
      return ctx.call('GET', `/admin/status-batch/rejected${q.size ? `?${q}` : ''}`);
    },
    human: (r) => table((r as { rejected: Array<Record<string, unknown>> }).rejected, ['runId', 'pspTransactionId', 'status', 'amount', 'reason', 'reasonText']),
  },
  {
    group: 'payment', action: 'list', usage: 'payment list [filters]',
    summary: 'List payments, newest first: --psp, --msn, --state, --since, --until, --search, --limit (up to 100), --after',
    options: {
      psp: { type: 'string' }, msn: { type: 'string' }, state: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' },
      search: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' },
    },
    run(ctx, v) {
      const q = new URLSearchParams();
      for (const name of ['psp', 'msn', 'state', 'since', 'until', 'search', 'limit', 'after']) {
        const value = v[name];
        if (typeof value === 'string') q.set(name, name === 'state' ? value.toUpperCase() : value);
      }
      return ctx.call('GET', `/admin/payments${q.size ? `?${q}` : ''}`);
    },
    human(r) {
      const page = r as { payments: Array<Record<string, unknown>>; next: string | null };
      const rows = page.payments.map((p) => ({ ...p, createdAt: String(p.createdAt).slice(0, 19).replace('T', ' '), amount: `${(Number(p.amount) / 100).toFixed(2)} ${String(p.currency)}` }));
      const body = table(rows, ['createdAt', 'pspId', 'merchantSerialNumber', 'pspTransactionId', 'merchantOrderId', 'amount', 'state']);
      return page.next ? `${body}\n\nMore: --after ${page.next}` : body;
    },
  },
  {
    group: 'payment', action: 'show', usage: 'payment show PSP_ID PSP_TRANSACTION_ID', summary: 'A payment with its log and every makePayment attempt',
    options: {},
    positionals: ['PSP_ID', 'PSP_TRANSACTION_ID'],
    async run(ctx, _v, positionals) {
      const [pspId, id] = positionals;
      if (!pspId || !id) throw new UsageError('give the Psp-Id and the pspTransactionId');
      return ctx.call('GET', `/admin/payments/${encodeURIComponent(pspId)}/${encodeURIComponent(id)}`);
    },
    human(r) {
      const p = r as { pspTransactionId: string; state: string; amount: number; merchantSerialNumber: string; errorText: string | null;
        transactionLogHistory: Array<{ operation: string; amount: number; operationSuccess: boolean; timeStamp: string }>;
        deliveries: Array<{ at: string; paymentState: string; sentAt: string | null; completedAt: string | null; responseStatus: number | null; outcome: string; latencyMs: number | null; error: string | null }> };
      return [
        `Payment ${p.pspTransactionId} (MSN ${p.merchantSerialNumber}): ${p.state}, ${p.amount} øre${p.errorText ? ` — ${p.errorText}` : ''}`,
        '', 'Log:', table(p.transactionLogHistory as unknown as Array<Record<string, unknown>>, ['timeStamp', 'operation', 'amount', 'operationSuccess']),
        '', 'makePayment attempts:', table(p.deliveries as unknown as Array<Record<string, unknown>>, ['at', 'paymentState', 'responseStatus', 'outcome', 'latencyMs', 'completedAt', 'error']),
      ].join('\n');
    },
  },
  {
    group: 'agreement', action: 'list', usage: 'agreement list', summary: 'Recurring agreements, newest first: --psp, --limit (up to 100)',
    options: { psp: { type: 'string' }, limit: { type: 'string' } },
    run(ctx, v) {
      const q = new URLSearchParams();
      if (typeof v.psp === 'string') q.set('psp', v.psp);
      if (typeof v.limit === 'string') q.set('limit', v.limit);
      return ctx.call('GET', `/admin/agreements${q.size ? `?${q}` : ''}`);
    },
    human: (r) => table((r as { agreements: Array<Record<string, unknown>> }).agreements.map((a) => ({ ...a, created: String(a.created).slice(0, 19).replace('T', ' ') })),
      ['created', 'pspId', 'merchantSerialNumber', 'id', 'productName', 'status']),
  },
  {
    group: 'agreement', action: 'show', usage: 'agreement show AGREEMENT_ID', summary: 'An agreement with its charges (and their timelines) and every card callback',
    options: {},
    positionals: ['AGREEMENT_ID'],
    async run(ctx, _v, positionals) {
      const [id] = positionals;
      if (!id) throw new UsageError('give the agreement id');
      return ctx.call('GET', `/admin/agreements/${encodeURIComponent(id)}`);
    },
    human(r) {
      const a = r as { agreement: { id: string; status: string; productName: string }; merchantSerialNumber: string; phone: string | null;
        charges: Array<Record<string, unknown>>; cardCallbacks: Array<Record<string, unknown>> };
      return [
        `Agreement ${a.agreement.id} (MSN ${a.merchantSerialNumber}): ${a.agreement.status}, ${a.agreement.productName}${a.phone ? `, user ${a.phone}` : ''}`,
        '', 'Charges:', table(a.charges, ['id', 'type', 'amount', 'status', 'due', 'paymentInfoFetches', 'failureReason']),
        '', 'Card callbacks:', table(a.cardCallbacks, ['at', 'purpose', 'round', 'outcome', 'responseStatus', 'latencyMs', 'error']),
      ].join('\n');
    },
  },
];

/** Runs `vipps-psp <group> <action> …`; undefined when no such command exists. */
export async function runAdminCommand(group: string, rest: string[]): Promise<number | undefined> {
  const commands = adminCommands.filter((c) => c.group === group);
  if (commands.length === 0) return undefined;
  const [action, ...args] = rest;
  const command = commands.find((c) => c.action === action);
  if (!command) {
    const list = commands.map((c) => `  vipps-psp ${c.usage.padEnd(36)} ${c.summary}`).join('\n');
    process.stdout.write(`Usage:\n${list}\n`);
    return action === undefined || action === '--help' || action === '-h' ? 0 : 2;
  }
  const apiCommand: ApiCommand = { ...command, run: (call, values, positionals) => command.run({ call }, values, positionals) };
  return runApiCommand(apiCommand, args);
}
