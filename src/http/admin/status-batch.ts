// Operator API for the status batch: run it now, list runs, list rejected updates with reasons.
import type { FastifyInstance } from 'fastify';
import { runStatusBatch, runView } from '../../operations/status-batch.ts';
import { listRejected, listRuns, pendingCount } from '../../store/status-updates.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { REJECTION_REASONS, type RejectionReason } from '../../domain/status-rules.ts';
import { adminGuard } from './guard.ts';

const limitQuery = {
  type: 'object',
  properties: { limit: { type: 'string', pattern: '^\\d{1,4}$' }, runId: { type: 'string', pattern: '^\\d{1,18}$' } },
} as const;

export function registerAdminStatusBatchRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  app.post('/admin/status-batch/run', { onRequest }, async () => {
    const summary = await runStatusBatch(deps.payments, 'manual');
    return summary;
  });

  app.get('/admin/status-batch/runs', { onRequest, schema: { querystring: limitQuery } }, async (request) => {
    const { limit } = request.query as { limit?: string };
    return {
      pending: await pendingCount(db),
      schedule: { cron: deps.payments.config.statusBatchCron, timeZone: deps.payments.config.statusBatchTz, mode: deps.payments.config.statusBatchMode },
      runs: (await listRuns(db, Math.min(Number(limit ?? 50), 1000))).map((r) => runView(r, deps.payments.clock.now())),
    };
  });

  app.get('/admin/status-batch/rejected', { onRequest, schema: { querystring: limitQuery } }, async (request) => {
    const { limit, runId } = request.query as { limit?: string; runId?: string };
    const list = await listRejected(db, Math.min(Number(limit ?? 100), 1000), runId === undefined ? undefined : Number(runId));
    return {
      rejected: list.map((r) => ({
        ...r,
        reasonText: REJECTION_REASONS[r.reason as RejectionReason] ?? r.reason,
        receivedAt: r.receivedAt.toISOString(),
        processedAt: r.processedAt?.toISOString() ?? null,
      })),
    };
  });
}
