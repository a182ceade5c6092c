// The console's front page: payments by state (today, last 7 days), makePayment deliveries that
// failed or got no answer, status updates waiting for the batch, the next scheduled run, the last runs.
import type { FastifyInstance } from 'fastify';
import { overview } from '../../store/console.ts';
import { runCountsOf } from '../../store/status-updates.ts';
import { nextTick } from '../../jobs/status-batch-scheduler.ts';
import type { ConsoleContext } from './index.ts';

export function registerOverviewPage(scope: FastifyInstance, ctx: ConsoleContext): void {
  const config = ctx.services.config;
  scope.get('/', async (request, reply) => {
    const now = ctx.now();
    const own = ctx.scope(request);
    const figures = await overview(ctx.payments.database.db, now, own);
    if (own !== undefined) {
      // A PSP's person sees each run's share of its own updates, never the others' counts.
      const shares = await runCountsOf(ctx.payments.database.db, own, figures.runs.map((r) => r.runId));
      figures.runs = figures.runs.map((r) => ({ ...r, applied: shares.get(r.runId)?.applied ?? 0, rejected: shares.get(r.runId)?.rejected ?? 0 }));
    }
    const nextRun = config.statusBatchMode === 'immediate' ? undefined : nextTick(config.statusBatchCron, config.statusBatchTz, now);
    return ctx.page(request, reply, {
      view: 'console/overview', title: 'Overview', section: 'overview',
      data: {
        figures, nextRun, mode: config.statusBatchMode, cron: config.statusBatchCron, tz: config.statusBatchTz,
        totals: { today: figures.byState.reduce((n, s) => n + s.today, 0), week: figures.byState.reduce((n, s) => n + s.week, 0) },
      },
    });
  });
}
