// Go-live readiness of one PSP: the "Live flow" of the PSP API checklist (psp-api-checklist.md) and
// the error codes of the PSP guide's table, judged from what this server recorded. Pure: the store
// gathers the facts (bounded, aggregated in SQL); this decides what each item needs and whether it is
// met, and writes the report as Markdown for the PSP to send on (with the ePayment checklist,
// domain/epayment/readiness.ts, after it).
import { EPAYMENT_GROUPS, type EpaymentChecklist } from './epayment/readiness.ts';

/** A payment that shows an item is met (or, in `problems`, that it is not). */
export interface PaymentRef {
  paymentId: string;
  pspTransactionId: string;
  merchantOrderId: string;
  at: Date;
  /** What about this payment matters here (an errorId, a reason). */
  detail?: string;
}

/** An error answer the PSP received from this server's PSP API (an `api.error` event). */
export interface ErrorRef {
  eventId: number;
  at: Date;
  method: string;
  route: string;
  status: number;
  errorCode: string;
  errorMessage: string | null;
  contextId: string | null;
  pspTransactionId: string | null;
  /** The payment the request was about, when it is known. */
  paymentId: string | null;
  merchantOrderId: string | null;
}

/** A makePayment call that was not answered with JSON in time. */
export interface AttemptProblem extends PaymentRef {
  attemptId: number;
  /** ACCEPTED, TIMEOUT or USER_CANCEL */
  paymentState: string;
  reason: AnswerProblem;
}

/** Why a makePayment call counts as not answered properly (decided per call in SQL, named here). */
export const ANSWER_PROBLEMS = {
  NO_ANSWER: 'No answer (connection failed or no response within the timeout)',
  ABANDONED: 'No answer was recorded (the call was cut off)',
  LATE: 'Answered after the payment had been resolved without it',
  HTTP_STATUS: 'Answered with an HTTP status other than 200',
  NOT_JSON: 'Answered with a body that is not JSON',
  TOO_SLOW: 'Answered later than the makePayment timeout',
} as const;
export type AnswerProblem = keyof typeof ANSWER_PROBLEMS;

/** An error code of the PSP guide's table that this server answers, and how a PSP can provoke it. */
export interface ErrorCheck {
  id: string;
  code: string;
  message: string;
  /** Only answers whose errorMessage starts with this count (51 has two meanings). */
  messagePrefix?: string;
  /** Answers whose errorMessage starts with this do not count (they belong to another check). */
  excludePrefix?: string;
  how: string;
}

export const ERROR_CHECKS: readonly ErrorCheck[] = [
  { id: '21', code: '21', message: 'Merchant not available or active', how: 'Initiate a payment for a sales unit that is deactivated (set it inactive on the Merchants page).' },
  { id: '44', code: '44', message: 'PSP Transaction ID already exists', how: 'Initiate a payment with a pspTransactionId that is already used, with another body.' },
  {
    id: '51', code: '51', message: 'Invalid request', excludePrefix: 'Invalid pspRedirectUrl',
    how: 'Send a malformed request, e.g. an init without the Merchant-Serial-Number header or with a 7-digit customerMobileNumber.',
  },
  {
    id: '51-redirect', code: '51', message: 'Invalid pspRedirectUrl', messagePrefix: 'Invalid pspRedirectUrl',
    how: 'Initiate a payment with a pspRedirectUrl that is not an http(s) URL.',
  },
  { id: '99', code: '99', message: 'OrderId already exists', how: 'Initiate a payment with a merchantOrderId already used for the sales unit.' },
  { id: 'amount', code: 'amount', message: 'amount.less.than.one', how: 'Initiate a payment with amount 0.' },
  { id: 'currency', code: 'currency', message: 'transaction.currency.invalid', how: 'Initiate a payment with a currency other than NOK.' },
  { id: 'makePaymentUrl', code: 'makePaymentUrl', message: 'Invalid makePaymentUrl', how: 'Initiate a payment with a makePaymentUrl that is not a valid URL.' },
];

/** Codes of the guide's table that this API never answers, and why. */
export const ERROR_CODES_NOT_APPLICABLE: ReadonlyArray<{ code: string; message: string; why: string }> = [
  { code: '42', message: 'Invalid payment model type', why: 'PSP API v3 has no payment model in its requests, so the answer cannot occur.' },
  { code: '121', message: 'Agreement not found', why: 'Agreements (recurring payments) are not part of this server\'s PSP API.' },
  { code: '122', message: 'Agreement not active', why: 'Agreements (recurring payments) are not part of this server\'s PSP API.' },
  { code: '123', message: 'Connected payment source not active for Agreement', why: 'Agreements (recurring payments) are not part of this server\'s PSP API.' },
  { code: '124', message: 'No Network token available for this Agreement', why: 'Agreements (recurring payments) are not part of this server\'s PSP API.' },
];

/** Whether an error answer counts for a check (its code, and its message where the code is shared). */
export function errorMatches(check: ErrorCheck, code: string, message: string | null): boolean {
  if (code !== check.code) return false;
  const text = message ?? '';
  if (check.messagePrefix !== undefined && !text.startsWith(check.messagePrefix)) return false;
  if (check.excludePrefix !== undefined && text.startsWith(check.excludePrefix)) return false;
  return true;
}

/** A reservation open longer than this, neither captured nor cancelled, counts against the PSP. */
export const SETTLE_WITHIN_HOURS = 24;

/** Everything the evaluation needs, as the store found it for one PSP. */
export interface ReadinessFacts {
  pspId: string;
  pspName: string;
  /** Reserved, then captured and refunded by applied updatestatus entries. */
  completeOrders: PaymentRef[];
  /** Reserved, then cancelled by an applied updatestatus entry. */
  cancelledOrders: PaymentRef[];
  /** The newest error answers per ErrorCheck id. */
  errorAnswers: Record<string, ErrorRef[]>;
  /** The PSP's FAIL answers to makePayment (ACCEPTED), by errorId. */
  failAnswers: Array<{ errorId: string; errorText: string | null; count: number; examples: PaymentRef[] }>;
  /** Soft declines completed through 3-D Secure: reserved in a second makePayment round. */
  threeDsCompleted: PaymentRef[];
  /** TIMEOUT / USER_CANCEL notifications: answered ones, and ones not delivered or abandoned. */
  notifications: Record<'TIMEOUT' | 'USER_CANCEL', { notified: PaymentRef[]; failed: PaymentRef[] }>;
  /** makePayment calls of the newest payments (at most `paymentsLookedAt` of them). */
  answers: {
    paymentsLookedAt: number;
    calls: number;
    problemCount: number;
    problemsByReason: Partial<Record<AnswerProblem, number>>;
    problems: AttemptProblem[];
    timeoutMs: number;
  };
  /** Reservations: some settled through updatestatus, and those open for too long. */
  settlement: { settled: PaymentRef[]; overdueCount: number; overdue: PaymentRef[] };
  /** The init requests' headers over the newest inits. */
  initHeaders: {
    inits: number;
    withIdempotencyKey: number;
    withSystemHeaders: number;
    withoutIdempotencyKey: PaymentRef[];
    withoutSystemHeaders: PaymentRef[];
    example: PaymentRef[];
  };
}

export type ItemGroup = 'Live flow' | 'Error codes' | 'makePayment' | 'Headers';

export interface Evidence {
  /** What to show: a pspTransactionId, an error answer. */
  label: string;
  at: string;
  pspTransactionId: string | null;
  merchantOrderId: string | null;
  /** The payment in this server, to link to. */
  paymentId: string | null;
  detail: string | null;
}

export interface ReadinessItem {
  id: string;
  group: ItemGroup;
  title: string;
  met: boolean;
  /** One sentence: what was found. */
  summary: string;
  /** How to produce it (shown while the item is not met). */
  how: string;
  evidence: Evidence[];
  /** What stands against the item (failed calls, overdue reservations, requests without a header). */
  problems: Evidence[];
}

export interface ReadinessReport {
  pspId: string;
  pspName: string;
  generatedAt: string;
  met: number;
  total: number;
  ready: boolean;
  items: ReadinessItem[];
  notApplicable: Array<{ code: string; message: string; why: string }>;
}

function fromPayment(p: PaymentRef): Evidence {
  return {
    label: p.pspTransactionId, at: p.at.toISOString(), pspTransactionId: p.pspTransactionId,
    merchantOrderId: p.merchantOrderId, paymentId: p.paymentId, detail: p.detail ?? null,
  };
}

function fromError(e: ErrorRef): Evidence {
  return {
    label: `${e.method} ${e.route} → ${e.status} ${e.errorCode}`,
    at: e.at.toISOString(),
    pspTransactionId: e.pspTransactionId,
    merchantOrderId: e.merchantOrderId,
    paymentId: e.paymentId,
    detail: [e.errorMessage, e.contextId ? `contextId ${e.contextId}` : null].filter((x) => x).join(' · ') || null,
  };
}

function fromProblem(p: AttemptProblem): Evidence {
  return { ...fromPayment(p), detail: `${p.paymentState}: ${ANSWER_PROBLEMS[p.reason]}${p.detail ? ` (${p.detail})` : ''}` };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Judges every item from the facts. */
export function evaluateReadiness(f: ReadinessFacts, now: Date): ReadinessReport {
  const items: ReadinessItem[] = [];

  items.push({
    id: 'complete-order', group: 'Live flow',
    title: 'A complete order: reserved, then captured and refunded through updatestatus',
    met: f.completeOrders.length > 0,
    summary: f.completeOrders.length > 0
      ? `Found ${plural(f.completeOrders.length, 'order')} reserved, captured and refunded with applied status updates.`
      : 'No payment has been both captured and refunded through updatestatus yet.',
    how: 'Reserve a payment, then send CAPTURED and REFUNDED for it with POST /psp/v3/psppayments/updatestatus and let the status batch apply them.',
    evidence: f.completeOrders.map(fromPayment), problems: [],
  });

  items.push({
    id: 'cancelled-order', group: 'Live flow',
    title: 'A complete order cancelled through updatestatus',
    met: f.cancelledOrders.length > 0,
    summary: f.cancelledOrders.length > 0
      ? `Found ${plural(f.cancelledOrders.length, 'order')} reserved and then cancelled with an applied status update.`
      : 'No reserved payment has been cancelled through updatestatus yet.',
    how: 'Reserve a payment, then send CANCELLED for it with POST /psp/v3/psppayments/updatestatus and let the status batch apply it.',
    evidence: f.cancelledOrders.map(fromPayment), problems: [],
  });

  for (const check of ERROR_CHECKS) {
    const seen = f.errorAnswers[check.id] ?? [];
    items.push({
      id: `error-${check.id}`, group: 'Error codes',
      title: `Error ${check.code}: ${check.message}`,
      met: seen.length > 0,
      summary: seen.length > 0
        ? `The PSP received this error (newest ${seen.length === 1 ? 'answer' : `${seen.length} answers`} below).`
        : 'The PSP has not received this error yet.',
      how: check.how,
      evidence: seen.map(fromError), problems: [],
    });
  }

  const fails = [...f.failAnswers].sort((a, b) => a.errorId.localeCompare(b.errorId, 'en', { numeric: true }));
  items.push({
    id: 'make-payment-fail', group: 'makePayment',
    title: 'The PSP answers makePayment with FAIL and its own errorId',
    met: fails.length > 0,
    summary: fails.length > 0
      ? `FAIL answers by errorId: ${fails.map((x) => `${x.errorId}${x.errorText ? ` "${x.errorText}"` : ''} × ${x.count}`).join(', ')}.`
      : 'No makePayment has been answered with paymentInfo.status FAIL and an errorMessage.errorId yet.',
    how: 'Answer a makePayment (ACCEPTED) with {"paymentInfo":{"status":"FAIL"},"errorMessage":{"errorId":82,"errorText":"Refused by Issuer"}}, e.g. for a card the issuer declines; 85 "Response received too late" for a payment the PSP already cancelled.',
    evidence: fails.flatMap((x) => x.examples.map((p) => ({ ...fromPayment(p), detail: `errorId ${x.errorId}${x.errorText ? `: ${x.errorText}` : ''}` }))),
    problems: [],
  });

  items.push({
    id: 'soft-decline-3ds', group: 'makePayment',
    title: 'A soft decline completed through 3-D Secure',
    met: f.threeDsCompleted.length > 0,
    summary: f.threeDsCompleted.length > 0
      ? `Found ${plural(f.threeDsCompleted.length, 'payment')} answered SOFT_DECLINE, authenticated with 3-D Secure and then reserved.`
      : 'No payment has been reserved after a SOFT_DECLINE and 3-D Secure yet.',
    how: 'Answer a makePayment with SOFT_DECLINE and a url3dSecure; after the user authenticates, redirect to the 3dssuccess operation URL and answer the second makePayment with OK.',
    evidence: f.threeDsCompleted.map(fromPayment), problems: [],
  });

  for (const state of ['TIMEOUT', 'USER_CANCEL'] as const) {
    const n = f.notifications[state];
    items.push({
      id: state === 'TIMEOUT' ? 'timeout-notification' : 'user-cancel-notification', group: 'makePayment',
      title: `A ${state} notification answered`,
      met: n.notified.length > 0,
      summary: n.notified.length > 0
        ? `The PSP answered a makePayment with paymentState ${state}${n.failed.length > 0 ? `; ${plural(n.failed.length, 'other')} got no answer (below)` : ''}.`
        : n.failed.length > 0
          ? `makePayment with paymentState ${state} was sent but never answered.`
          : `No makePayment with paymentState ${state} has been answered yet.`,
      how: state === 'TIMEOUT'
        ? 'Initiate a payment and let it expire without approving it; answer the makePayment with paymentState TIMEOUT (and cancel the order).'
        : 'Initiate a payment and reject it in the app (or on the payment\'s console page); answer the makePayment with paymentState USER_CANCEL.',
      evidence: n.notified.map(fromPayment), problems: n.failed.map(fromPayment),
    });
  }

  const a = f.answers;
  const reasons = Object.entries(a.problemsByReason).filter(([, n]) => (n ?? 0) > 0)
    .map(([r, n]) => `${ANSWER_PROBLEMS[r as AnswerProblem]}: ${n}`);
  items.push({
    id: 'json-within-timeout', group: 'makePayment',
    title: `Every makePayment answered with JSON within the timeout (${a.timeoutMs} ms)`,
    met: a.calls > 0 && a.problemCount === 0,
    summary: a.calls === 0
      ? 'No makePayment has been answered yet.'
      : a.problemCount === 0
        ? `All ${plural(a.calls, 'makePayment call')} to the PSP's newest ${plural(a.paymentsLookedAt, 'payment')} were answered with JSON in time.`
        : `${a.problemCount} of ${plural(a.calls, 'makePayment call')} to the PSP's newest ${plural(a.paymentsLookedAt, 'payment')} were not answered properly (${reasons.join('; ')}).`,
    how: 'Answer every makePayment (ACCEPTED, TIMEOUT, USER_CANCEL) with HTTP 200 and a JSON body within the timeout.',
    evidence: [], problems: a.problems.map(fromProblem),
  });

  const s = f.settlement;
  items.push({
    id: 'reservations-settled', group: 'Live flow',
    title: `Every reserved payment captured or cancelled through updatestatus (within ${SETTLE_WITHIN_HOURS} h)`,
    met: s.settled.length > 0 && s.overdueCount === 0,
    summary: s.overdueCount > 0
      ? `${plural(s.overdueCount, 'payment')} reserved more than ${SETTLE_WITHIN_HOURS} h ago ${s.overdueCount === 1 ? 'is' : 'are'} neither captured nor cancelled.`
      : s.settled.length > 0
        ? `Reserved payments are captured or cancelled; none has stayed open longer than ${SETTLE_WITHIN_HOURS} h.`
        : 'No reserved payment has been captured or cancelled through updatestatus yet.',
    how: 'Send CAPTURED or CANCELLED with POST /psp/v3/psppayments/updatestatus for every payment that was reserved.',
    evidence: s.settled.map(fromPayment), problems: s.overdue.map(fromPayment),
  });

  const h = f.initHeaders;
  items.push({
    id: 'idempotency-key', group: 'Headers',
    title: 'Idempotency-Key sent on init',
    met: h.inits > 0 && h.withIdempotencyKey === h.inits,
    summary: h.inits === 0
      ? 'No payment has been initiated yet.'
      : `${h.withIdempotencyKey} of the newest ${plural(h.inits, 'init')} carried an Idempotency-Key.`,
    how: 'Send a unique Idempotency-Key header with every POST /psp/v3/psppayments/init, and the same key when retrying it.',
    evidence: h.withIdempotencyKey > 0 ? h.example.map(fromPayment) : [], problems: h.withoutIdempotencyKey.map(fromPayment),
  });
  items.push({
    id: 'system-headers', group: 'Headers',
    title: 'Vipps-System-Name and Vipps-System-Version sent on init',
    met: h.inits > 0 && h.withSystemHeaders === h.inits,
    summary: h.inits === 0
      ? 'No payment has been initiated yet.'
      : `${h.withSystemHeaders} of the newest ${plural(h.inits, 'init')} carried Vipps-System-Name and Vipps-System-Version.`,
    how: 'Send Vipps-System-Name, Vipps-System-Version, Vipps-System-Plugin-Name and Vipps-System-Plugin-Version (each at most 30 characters) with every request.',
    evidence: h.withSystemHeaders > 0 ? h.example.map(fromPayment) : [], problems: h.withoutSystemHeaders.map(fromPayment),
  });

  const met = items.filter((i) => i.met).length;
  return {
    pspId: f.pspId, pspName: f.pspName, generatedAt: now.toISOString(),
    met, total: items.length, ready: met === items.length, items,
    notApplicable: [...ERROR_CODES_NOT_APPLICABLE],
  };
}

export const ITEM_GROUPS: readonly ItemGroup[] = ['Live flow', 'Error codes', 'makePayment', 'Headers'];

/** Inline code in Markdown, safe for any text (backticks and line breaks cannot end it early). */
function code(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${flat}${longest > 0 ? ' ' : ''}${fence}`;
}

/** Plain text in Markdown: characters that would format are escaped, line breaks flattened. */
function plain(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/([\\`*[\]<>|])/g, '\\$1');
}

function evidenceLine(e: Evidence): string {
  const ids = [
    e.pspTransactionId ? `pspTransactionId ${code(e.pspTransactionId)}` : null,
    e.merchantOrderId ? `merchantOrderId ${code(e.merchantOrderId)}` : null,
  ].filter((x) => x);
  const what = ids.length > 0 ? ids.join(', ') : code(e.label);
  return `  - ${what} at ${e.at}${e.detail ? ` — ${plain(e.detail)}` : ''}`;
}

/** The report as Markdown, with the test IDs Vipps asks for (not links into this server). */
export function readinessMarkdown(r: ReadinessReport, source: string, epayment?: EpaymentChecklist): string {
  const lines: string[] = [
    `# Go-live readiness: ${plain(r.pspName)} (PSP id ${code(r.pspId)})`,
    '',
    `${r.met} of ${r.total} items met. Generated ${r.generatedAt} from ${plain(source)}.`,
  ];
  for (const group of ITEM_GROUPS) {
    const items = r.items.filter((i) => i.group === group);
    if (items.length === 0) continue;
    lines.push('', `## ${group}`, '');
    for (const item of items) {
      lines.push(`- [${item.met ? 'x' : ' '}] ${plain(item.title)}: ${plain(item.summary)}`);
      for (const e of item.evidence.slice(0, 3)) lines.push(evidenceLine(e));
      if (item.problems.length > 0) {
        lines.push('  - Not in order:');
        for (const p of item.problems.slice(0, 5)) lines.push(`  ${evidenceLine(p)}`);
      }
    }
    if (group === 'Error codes') {
      for (const na of r.notApplicable) lines.push(`- Error ${na.code} (${plain(na.message)}) does not apply: ${plain(na.why)}`);
    }
  }
  if (epayment) {
    lines.push('', '# The ePayment PSP API (card passthrough)', '', `${epayment.met} of ${epayment.total} items met.`);
    for (const group of EPAYMENT_GROUPS) {
      const items = epayment.items.filter((i) => i.group === group);
      if (items.length === 0) continue;
      lines.push('', `## ${group}`, '');
      for (const item of items) {
        lines.push(`- [${item.met ? 'x' : ' '}] ${plain(item.title)}: ${plain(item.summary)}`);
        for (const e of item.evidence.slice(0, 3)) lines.push(`  - reference ${code(e.label)} at ${e.at}${e.detail ? ` — ${plain(e.detail)}` : ''}`);
        if (item.problems.length > 0) {
          lines.push('  - Not in order:');
          for (const p of item.problems.slice(0, 5)) lines.push(`    - reference ${code(p.label)} at ${p.at}${p.detail ? ` — ${plain(p.detail)}` : ''}`);
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
