// Fault injection rules (test environment): which requests a rule matches and what it does to them.
// Pure: the rules are stored and counted in store/controls.ts, applied in http/plugins/faults.ts and
// to outbound makePayment calls in delivery/.

/**
 * The request families a rule can match. `makePayment`, `cardCallback` and `webhook` are the outbound
 * calls to the PSP: makePayment is delayed only; a card callback or a webhook delivery may also fail
 * (as if the PSP had answered the rule's status, or the connection had broken). The ePayment routes:
 * create, get (a payment and its events), adjust (capture, refund, cancel) and approve (the test-only
 * force approve); their `pspTransactionId` is the reference, as for cardCallback and webhook.
 */
export const FAULT_ROUTES = [
  'accessToken', 'init', 'details', 'updatestatus', 'approve', 'signup', 'makePayment',
  'epaymentCreate', 'epaymentGet', 'epaymentAdjust', 'epaymentApprove', 'cardCallback', 'webhook',
] as const;
export type FaultRoute = typeof FAULT_ROUTES[number];

/** The error statuses a rule may answer with (each in the route's own error shape). */
export const FAULT_STATUSES = [500, 502, 503, 429] as const;

export interface FaultRule {
  ruleId: number;
  route: FaultRoute;
  pspId: string | null;
  msn: string | null;
  pspTransactionId: string | null;
  status: number | null;
  retryAfterSeconds: number | null;
  delayMs: number;
  dropConnection: boolean;
  /** Matching requests still to fault; null: every one. */
  remaining: number | null;
  probability: number | null;
  hits: number;
  expiresAt: Date | null;
  createdAt: Date;
}

/** What is known of a request when the rules are checked. Absent fields match only unscoped rules. */
export interface FaultTarget {
  pspId?: string;
  msn?: string;
  /** The pspTransactionIds the request is about (updatestatus: every one in its body). */
  pspTransactionIds?: readonly string[];
}

/** Whether `rule` applies to a request of `route` about `target` at `now` (before its count and chance). */
export function ruleMatches(rule: FaultRule, route: FaultRoute, target: FaultTarget, now: Date): boolean {
  if (rule.route !== route) return false;
  if (rule.expiresAt !== null && rule.expiresAt <= now) return false;
  if (rule.remaining !== null && rule.remaining <= 0) return false;
  if (rule.pspId !== null && rule.pspId !== target.pspId) return false;
  if (rule.msn !== null && rule.msn !== target.msn) return false;
  if (rule.pspTransactionId !== null && !(target.pspTransactionIds ?? []).includes(rule.pspTransactionId)) return false;
  return true;
}

/** Whether a rule needs to know the PSP (or more) of a request before it can be matched. */
export function isScoped(rule: FaultRule): boolean {
  return rule.pspId !== null || rule.msn !== null || rule.pspTransactionId !== null;
}

export interface FaultInput {
  route: FaultRoute;
  pspId?: string;
  msn?: string;
  pspTransactionId?: string;
  status?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
  drop?: boolean;
  times?: number;
  probability?: number;
  ttlSeconds?: number;
}

/** The problems of a rule that the JSON schema cannot express; empty when it is sound. */
export function faultInputProblems(input: FaultInput): Array<{ name: string; reason: string }> {
  const problems: Array<{ name: string; reason: string }> = [];
  const effect = input.status !== undefined || (input.delayMs ?? 0) > 0 || input.drop === true;
  if (!effect) problems.push({ name: 'status', reason: 'Give what the rule does: status, delayMs and/or drop' });
  if (input.status !== undefined && input.drop === true) problems.push({ name: 'drop', reason: 'A dropped connection has no status: give one of status and drop' });
  if (input.retryAfterSeconds !== undefined && input.status !== 429 && input.status !== 503) {
    problems.push({ name: 'retryAfterSeconds', reason: 'Only with status 429 or 503' });
  }
  if (input.route === 'makePayment') {
    if (input.status !== undefined || input.drop === true) problems.push({ name: 'route', reason: 'A makePayment rule only delays the outbound call: give delayMs alone' });
  }
  if ((input.route === 'cardCallback' || input.route === 'webhook') && input.retryAfterSeconds !== undefined) {
    problems.push({ name: 'retryAfterSeconds', reason: `A ${input.route} rule stands for the PSP's answer: it has no Retry-After` });
  }
  if (input.route === 'accessToken' || input.route === 'signup') {
    if (input.msn !== undefined || input.pspTransactionId !== undefined) {
      problems.push({ name: input.msn !== undefined ? 'msn' : 'pspTransactionId', reason: `The ${input.route} route has no MSN or pspTransactionId to match` });
    }
  }
  return problems;
}
