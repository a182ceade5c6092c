// A PSP's go-live readiness: the facts from one consistent snapshot of the store, judged by the
// domain's rules. The console page and GET /admin/psps/{pspId}/readiness both show this.
import type { Database } from '../store/db.ts';
import { findPspById } from '../store/psps.ts';
import { readinessFacts } from '../store/readiness.ts';
import { ERROR_CHECKS, evaluateReadiness, readinessMarkdown, SETTLE_WITHIN_HOURS, type ReadinessReport } from '../domain/readiness.ts';
import { ApiError } from '../domain/errors.ts';
import { evaluateEpaymentReadiness, type EpaymentChecklist } from '../domain/epayment/readiness.ts';
import { epaymentReadinessFacts } from '../store/epayment-readiness.ts';

export interface ReadinessDeps {
  database: Database;
  clock: { now(): Date };
  config: { makePaymentTimeoutMs: number; publicUrl: string };
}

export function pspNotFound(pspId: string): ApiError {
  return new ApiError(404, 'psp_not_found', `No PSP with id ${pspId}.`);
}

/** The report with its Markdown text; 404 for an unknown PSP. */
export async function readinessReport(deps: ReadinessDeps, pspId: string): Promise<ReadinessReport & { epayment: EpaymentChecklist; markdown: string }> {
  const now = deps.clock.now();
  const [facts, epaymentFacts] = await deps.database.db.transaction(async (tx) => {
    const psp = await findPspById(tx, pspId);
    if (!psp) throw pspNotFound(pspId);
    return [await readinessFacts(tx, { pspId: psp.pspId, name: psp.name }, {
      now, timeoutMs: deps.config.makePaymentTimeoutMs, settleWithinHours: SETTLE_WITHIN_HOURS, checks: ERROR_CHECKS,
    }), await epaymentReadinessFacts(tx, psp.pspId)] as const;
  }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  const report = evaluateReadiness(facts, now);
  const epayment = evaluateEpaymentReadiness(epaymentFacts);
  return { ...report, epayment, markdown: readinessMarkdown(report, deps.config.publicUrl, epayment) };
}
