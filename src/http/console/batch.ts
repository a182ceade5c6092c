// The console's status batch page: updates waiting, run now (its progress polled from
// /console/batch/progress, or the page reloaded without script), the runs with their figures, and the
// rejected updates with their reasons, filtered by PSP, run and reason, a keyset page at a time.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { runStatusBatch, runView } from '../../operations/psp-v3/status-batch.ts';
import { listPspSummaries } from '../../operations/psps.ts';
import { pendingCount, runCountsOf } from '../../store/status-updates.ts';
import { rejectedPage, runningRuns, runsPage } from '../../store/batch-views.ts';
import { REJECTION_REASONS, type RejectionReason } from '../../domain/psp-v3/status-rules.ts';
import { WebError } from '../web/security.ts';

const RUNS_PER_PAGE = 20;
const REJECTED_PER_PAGE = 50;

function badQuery(what: string): WebError {
  return new WebError(400, 'Request not accepted', `The ${what} in the address is not valid.`);
}

/** An optional positive id from the query. */
function idParam(value: unknown, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || Number(value) < 1) throw badQuery(what);
  return Number(value);
}

function textParam(value: unknown, pattern: RegExp, what: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw badQuery(what);
  return value;
}

const NOTICES: Record<string, string> = {
  started: 'A run was started. Its figures grow as each chunk is committed.',
  running: 'A run is already running; its progress is shown below.',
};

export function registerBatchPage(scope: FastifyInstance, ctx: ConsoleContext): void {
  const deps = ctx.payments;
  const db = deps.database.db;

  /** The runs with a PSP's person's own share of them (its updates applied and rejected), never the others'. */
  async function shareOf<T extends { runId: number; applied: number; rejected: number; rejectedByReason: Record<string, number> }>(own: string | undefined, runs: T[]): Promise<T[]> {
    if (own === undefined) return runs;
    const shares = await runCountsOf(db, own, runs.map((r) => r.runId));
    return runs.map((r) => ({ ...r, applied: shares.get(r.runId)?.applied ?? 0, rejected: shares.get(r.runId)?.rejected ?? 0, rejectedByReason: {} }));
  }

  async function progress(own: string | undefined) {
    const now = ctx.now();
    const running = await runningRuns(db, now);
    const runs = await shareOf(own, running.map((r) => runView(r, now)));
    return {
      pending: await pendingCount(db, own),
      running: runs.length > 0,
      /** The figures of the runs in progress so far (what their committed chunks applied and rejected). */
      applied: runs.reduce((n, r) => n + r.applied, 0),
      rejected: runs.reduce((n, r) => n + r.rejected, 0),
      runs,
    };
  }

  scope.get('/batch', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const own = ctx.scope(request);
    const filter = {
      pspId: own ?? textParam(q.psp, /^[A-Za-z0-9_-]{1,64}$/, 'PSP'),
      runId: idParam(q.run, 'run'),
      reason: textParam(q.reason, /^[A-Z_]{1,40}$/, 'reason'),
    };
    if (filter.reason !== undefined && !Object.hasOwn(REJECTION_REASONS, filter.reason)) throw badQuery('reason');
    const runsBefore = idParam(q.runsBefore, 'page of runs');
    const before = idParam(q.before, 'page of rejected updates');
    const now = ctx.now();
    const [state, runs, rejected, psps] = [
      await progress(own),
      await runsPage(db, { before: runsBefore, limit: RUNS_PER_PAGE + 1 }),
      await rejectedPage(db, { ...filter, before, limit: REJECTED_PER_PAGE + 1 }),
      (await listPspSummaries(db)).filter((p) => own === undefined || p.pspId === own),
    ];
    const moreRuns = runs.length > RUNS_PER_PAGE;
    const moreRejected = rejected.length > REJECTED_PER_PAGE;
    const shownRuns = await shareOf(own, runs.slice(0, RUNS_PER_PAGE).map((r) => runView(r, now)));
    const shownRejected = rejected.slice(0, REJECTED_PER_PAGE).map((r) => ({
      ...r, reasonText: REJECTION_REASONS[r.reason as RejectionReason] ?? r.reason,
    }));
    const done = typeof q.done === 'string' && Object.hasOwn(NOTICES, q.done) ? q.done : undefined;
    // While a run is in progress (or was just started) the page follows it: a script polls
    // /console/batch/progress; without script the page reloads itself.
    const follow = state.running || done === 'started';
    return ctx.page(request, reply, {
      view: 'console/batch', title: 'Status batch', section: 'batch', notice: done ? NOTICES[done] : undefined,
      refreshSeconds: follow ? 3 : undefined,
      data: {
        ...state,
        follow,
        schedule: { cron: deps.config.statusBatchCron, timeZone: deps.config.statusBatchTz, mode: deps.config.statusBatchMode },
        runs: shownRuns,
        runsNext: moreRuns ? shownRuns[shownRuns.length - 1].runId : null,
        runsPaged: runsBefore !== undefined,
        rejected: shownRejected,
        rejectedNext: moreRejected ? shownRejected[shownRejected.length - 1].updateId : null,
        rejectedPaged: before !== undefined,
        filter: { psp: filter.pspId ?? '', run: filter.runId ?? '', reason: filter.reason ?? '' },
        psps,
        reasons: Object.entries(REJECTION_REASONS).map(([code, text]) => ({ code, text })),
      },
    });
  });

  scope.get('/batch/progress', async (request) => progress(ctx.scope(request)));

  // Runs started here go on after their answer. On shutdown they stop after their current chunk (as
  // every run does), and the server waits for that before it closes the database.
  const background = new Set<Promise<unknown>>();
  scope.addHook('onClose', async () => { await Promise.allSettled([...background]); });

  scope.post('/batch/run', async (request: FastifyRequest, reply) => {
    ctx.form(request);
    ctx.operatorOnly(request, 'Running the status batch (it applies every PSP\'s updates)');
    if ((await runningRuns(db, ctx.now())).length > 0) return reply.redirect('/console/batch?done=running', 303);
    const run = runStatusBatch(deps, 'manual')
      .catch((err: unknown) => request.log.error({ err }, 'a status batch run started from the console failed'))
      .finally(() => background.delete(run));
    background.add(run);
    return reply.redirect('/console/batch?done=started', 303);
  });
}
