// The console's go-live readiness page: a PSP's checklist with its evidence, and the report as
// Markdown to copy, and as a JSON file to download. The same report as GET /admin/psps/{pspId}/readiness.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { listPspSummaries } from '../../operations/psps.ts';
import { linkedReadiness } from '../admin/psps.ts';
import { ITEM_GROUPS } from '../../domain/readiness.ts';
import { EPAYMENT_GROUPS } from '../../domain/epayment/readiness.ts';
import { WebError } from '../web/security.ts';

const PSP_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function registerReadinessPage(scope: FastifyInstance, ctx: ConsoleContext): void {
  // The report as a JSON file, exactly as GET /admin/psps/{pspId}/readiness answers it.
  scope.get('/readiness.json', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).pspId;
    if (typeof raw !== 'string' || !PSP_ID.test(raw)) throw new WebError(400, 'Request not accepted', 'A PSP id is letters, digits, "-" and "_".');
    ctx.own(request, raw.toUpperCase(), 'PSP');
    const report = await linkedReadiness(ctx.payments, raw.toUpperCase());
    ctx.headers(reply);
    const day = String(report.generatedAt).slice(0, 10);
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="readiness-${report.pspId}-${day}.json"`)
      .send(JSON.stringify(report, null, 2));
  });

  scope.get('/readiness', async (request, reply) => {
    const own = ctx.scope(request);
    // A PSP's person has one report: its own PSP's.
    const raw = (request.query as Record<string, unknown>).pspId ?? own;
    const psps = (await listPspSummaries(ctx.services.database.db)).filter((p) => own === undefined || p.pspId === own);
    if (raw === undefined || raw === '') {
      return ctx.page(request, reply, { view: 'console/readiness', title: 'Go-live readiness', section: 'readiness', data: { psps, report: null } });
    }
    if (typeof raw !== 'string' || !PSP_ID.test(raw)) throw new WebError(400, 'Request not accepted', 'A PSP id is letters, digits, "-" and "_".');
    ctx.own(request, raw.toUpperCase(), 'PSP');
    const report = await linkedReadiness(ctx.payments, raw.toUpperCase());
    const groups = ITEM_GROUPS.map((name) => ({ name, items: report.items.filter((i) => i.group === name) })).filter((g) => g.items.length > 0);
    const epaymentGroups = EPAYMENT_GROUPS.map((name) => ({ name, items: report.epayment.items.filter((i) => i.group === name) })).filter((g) => g.items.length > 0);
    return ctx.page(request, reply, {
      view: 'console/readiness', title: `Go-live readiness: ${report.pspName}`, section: 'readiness',
      data: { psps, report, groups, epaymentGroups },
    });
  });
}
