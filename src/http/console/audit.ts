// The console's audit log: every action in the console and the operator API (a PSP's person: its own
// people's and those on its objects), newest first.
import type { FastifyInstance } from 'fastify';
import { listAudit } from '../../store/audit.ts';
import { WebError } from '../web/security.ts';
import type { ConsoleContext } from './index.ts';

const PER_PAGE = 100;

export function registerAuditPage(scope: FastifyInstance, ctx: ConsoleContext): void {
  scope.get('/audit', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).before;
    if (raw !== undefined && (typeof raw !== 'string' || !/^\d{1,18}$/.test(raw))) throw new WebError(400, 'Request not accepted', 'The page in the address is not valid.');
    const own = ctx.scope(request);
    const found = await listAudit(ctx.services.database.db, { limit: PER_PAGE + 1, before: raw === undefined ? undefined : Number(raw), pspId: own });
    const entries = found.slice(0, PER_PAGE);
    return ctx.page(request, reply, {
      view: 'console/audit', title: 'Audit log',
      data: { entries, own, next: found.length > PER_PAGE ? entries.at(-1)!.auditId : null },
    });
  });
}
