// The console's payments: the list (filters, search, keyset pages, live rows) and one payment.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './index.ts';

export function registerPaymentPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  scope.get('/payments', async (request, reply) => ctx.page(request, reply, {
    view: 'console/payments', title: 'Payments', section: 'payments', data: {},
  }));
}
