// The console's merchants (sales units): every PSP's, a page at a time, with their operator flags
// (active, skip the landing page) editable in place.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { merchantAdminView } from '../../operations/merchants.ts';
import { listPspSummaries } from '../../operations/psps.ts';
import { merchantsPage } from '../../store/console-lists.ts';
import { WebError } from '../web/security.ts';

const PER_PAGE = 50;
const MSN = /^\d{5,6}$/;
const PSP_ID = /^[A-Za-z0-9_-]{1,64}$/;

const NOTICES: Record<string, string> = { saved: "The merchant's flags were saved." };

function optional(value: unknown, pattern: RegExp, what: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw new WebError(400, 'Request not accepted', `The ${what} in the address is not valid.`);
  return value;
}

export function registerMerchantPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const db = ctx.services.database.db;

  scope.get('/merchants', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const own = ctx.scope(request);
    const pspId = own ?? optional(q.psp, PSP_ID, 'PSP');
    const after = optional(q.after, MSN, 'page');
    const found = await merchantsPage(db, { pspId, after, limit: PER_PAGE + 1 });
    const merchants = found.slice(0, PER_PAGE).map(merchantAdminView);
    const psps = (await listPspSummaries(db)).filter((p) => own === undefined || p.pspId === own);
    const names = new Map(psps.map((p) => [p.pspId, p.name]));
    const done = typeof q.done === 'string' && Object.hasOwn(NOTICES, q.done) ? NOTICES[q.done] : undefined;
    return ctx.page(request, reply, {
      view: 'console/merchants', title: 'Merchants', section: 'merchants', notice: done,
      data: {
        merchants: merchants.map((m) => ({ ...m, pspName: names.get(m.pspId) ?? m.pspId })),
        psps, psp: pspId ?? '', paged: after !== undefined,
        next: found.length > PER_PAGE ? merchants[merchants.length - 1].merchantSerialNumber : null,
      },
    });
  });

  scope.post('/merchants/:msn', async (request, reply) => {
    const form = ctx.form(request);
    const { msn } = request.params as { msn: string };
    if (!MSN.test(msn)) throw new WebError(404, 'Not found', 'There is no such merchant.');
    const own = ctx.scope(request);
    if (own !== undefined && !(await ctx.services.adminToken.consoleCredentials!.ownsMsn(own, msn))) throw new WebError(404, 'Not found', 'There is no such merchant.');
    // A checkbox that is not ticked is not sent: its absence means false.
    await ctx.services.merchants.setFlags(msn, { active: form.active === 'on', skipLandingPage: form.skipLandingPage === 'on' });
    request.log.info({ msn, active: form.active === 'on', skipLandingPage: form.skipLandingPage === 'on' }, 'merchant flags set from the console');
    const psp = typeof form.psp === 'string' && PSP_ID.test(form.psp) ? form.psp : undefined;
    return reply.redirect(`/console/merchants?${new URLSearchParams({ ...(psp ? { psp } : {}), done: 'saved' })}#merchant-${msn}`, 303);
  });
}
