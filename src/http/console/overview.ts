// The console's front page: payments by state, deliveries in trouble, the status batch's queue and runs.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './index.ts';

export function registerOverviewPage(scope: FastifyInstance, ctx: ConsoleContext): void {
  scope.get('/', async (request, reply) => ctx.page(request, reply, {
    view: 'console/overview', title: 'Overview', section: 'overview', data: {},
  }));
}
