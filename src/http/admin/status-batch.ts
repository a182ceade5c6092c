// Operator API for the status batch: run it now, list runs, list rejected updates with reasons.
import type { FastifyInstance } from 'fastify';
import { runStatusBatch, runView } from '../../operations/psp-v3/status-batch.ts';
import { listRejected, listRuns, pendingCount, runCountsOf } from '../../store/status-updates.ts';
import { requireOperator, scopeOf } from '../../operations/principals.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { REJECTION_REASONS, type RejectionReason } from '../../domain/psp-v3/status-rules.ts';
import { adminGuard } from './guard.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';

const limit = (fallback: number) => ({ type: 'string', pattern: '^\\d{1,4}$', description: `How many, newest first (default ${fallback}, at most 1000).` });

const runsQuery = { type: 'object', properties: { limit: limit(50) } } as const;
const rejectedQuery = {
  type: 'object',
  properties: { limit: limit(100), runId: { type: 'string', pattern: '^\\d{1,18}$', description: 'Only the updates this run rejected.' } },
} as const;

export function registerAdminStatusBatchRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  app.post('/admin/status-batch/run', {
    onRequest,
    schema: {
      tags: ['Status batch'], summary: 'Run the status batch now',
      description: 'Applies every pending status update, as the nightly run does, and answers when it is done.',
      response: { 200: ok('The run.', ref('BatchRun')), ...errorResponses() },
    },
  }, async (request) => {
    requireOperator(request.principal, 'Running the status batch (it applies every PSP\'s updates)');
    const summary = await runStatusBatch(deps.payments, 'manual');
    return summary;
  });

  app.get('/admin/status-batch/runs', {
    onRequest,
    schema: {
      tags: ['Status batch'], summary: 'The schedule, the pending updates and the latest runs',
      querystring: runsQuery,
      response: {
        200: ok('The batch\'s schedule, how many updates wait for it, and its runs, newest first.', {
          type: 'object',
          additionalProperties: false,
          required: ['pending', 'schedule', 'runs'],
          properties: {
            pending: { type: 'integer', description: 'Status updates received and not yet applied.' },
            schedule: {
              type: 'object',
              additionalProperties: false,
              properties: {
                cron: { type: 'string', description: 'STATUS_BATCH_CRON' },
                timeZone: { type: 'string', description: 'STATUS_BATCH_TZ' },
                mode: { type: 'string', enum: ['nightly', 'immediate'], description: 'STATUS_BATCH_MODE' },
              },
            },
            runs: { type: 'array', items: ref('BatchRun') },
          },
        }),
        ...errorResponses(400),
      },
    },
  }, async (request) => {
    const { limit } = request.query as { limit?: string };
    const own = scopeOf(request.principal);
    const runs = (await listRuns(db, Math.min(Number(limit ?? 50), 1000))).map((r) => runView(r, deps.payments.clock.now()));
    // A PSP's person sees each run's share of its own updates, never the others' counts.
    const shares = own === undefined ? undefined : await runCountsOf(db, own, runs.map((r) => r.runId));
    return {
      pending: await pendingCount(db, own),
      schedule: { cron: deps.payments.config.statusBatchCron, timeZone: deps.payments.config.statusBatchTz, mode: deps.payments.config.statusBatchMode },
      runs: shares === undefined ? runs : runs.map((r) => ({ ...r, applied: shares.get(r.runId)?.applied ?? 0, rejected: shares.get(r.runId)?.rejected ?? 0, rejectedByReason: {} })),
    };
  });

  app.get('/admin/status-batch/rejected', {
    onRequest,
    schema: {
      tags: ['Status batch'], summary: 'The status updates the batch rejected, with the reasons',
      querystring: rejectedQuery,
      response: {
        200: ok('The rejected updates, newest first.', {
          type: 'object', additionalProperties: false, required: ['rejected'],
          properties: { rejected: { type: 'array', items: ref('RejectedUpdate') } },
        }),
        ...errorResponses(400),
      },
    },
  }, async (request) => {
    const { limit, runId } = request.query as { limit?: string; runId?: string };
    const list = await listRejected(db, Math.min(Number(limit ?? 100), 1000), runId === undefined ? undefined : Number(runId), scopeOf(request.principal));
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
