// What /metrics reads from the database: one statement, so that a scrape costs one round trip. The
// counts by state scan their tables; the caller keeps the answer for a few seconds.
import type { Database } from './db.ts';
import type { DatabaseFigures } from '../observability/metrics.ts';

const FIGURES = `
  select 'objects' as kind, api, state, n::float8 as n, null::timestamptz as at from (
    select 'psp-v3' as api, state, count(*) as n from payments group by state
    union all select 'epayment', state, count(*) from epayments group by state
    union all select 'recurring-agreement', status, count(*) from agreements group by status
    union all select 'recurring-charge', status, count(*) from recurring_charges group by status
  ) o
  union all
  select 'webhooks', null, null, count(*)::float8, min(next_attempt_at) filter (where next_attempt_at <= $1::timestamptz)
  from webhook_deliveries where status = 'PENDING'
  union all
  select 'webhooks_due', null, null, count(*)::float8, null from webhook_deliveries where status = 'PENDING' and next_attempt_at <= $1::timestamptz
  union all
  select 'batch', trigger, state, count(*)::float8, max(finished_at) from (
    select trigger, finished_at,
      case when interrupted_at is not null then 'interrupted' when finished_at is not null then 'finished' else 'running' end as state
    from batch_runs
  ) b group by trigger, state`;

export async function databaseFigures(database: Database, now: Date): Promise<DatabaseFigures> {
  const found = await database.query<{ kind: string; api: string | null; state: string | null; n: number; at: Date | string | null }>(
    'metrics_figures', FIGURES, [now.toISOString()],
  );
  const figures: DatabaseFigures = { objects: [], webhookBacklog: { pending: 0, due: 0, oldestDueSeconds: 0 }, batchRuns: [], lastBatchFinishedAt: null };
  for (const r of found) {
    const n = Number(r.n);
    const at = r.at === null ? null : new Date(r.at);
    if (r.kind === 'objects') figures.objects.push({ api: r.api ?? '', state: r.state ?? '', count: n });
    else if (r.kind === 'webhooks') {
      figures.webhookBacklog.pending = n;
      figures.webhookBacklog.oldestDueSeconds = at === null ? 0 : Math.max(0, (now.getTime() - at.getTime()) / 1000);
    } else if (r.kind === 'webhooks_due') figures.webhookBacklog.due = n;
    else if (r.kind === 'batch') {
      figures.batchRuns.push({ trigger: r.api ?? '', state: r.state ?? '', count: n });
      if (at !== null && (figures.lastBatchFinishedAt === null || at > figures.lastBatchFinishedAt)) figures.lastBatchFinishedAt = at;
    }
  }
  return figures;
}
