// The route handlers still running, whether or not their client is still there: a request whose client
// went away goes on to its end (an updatestatus in STATUS_BATCH_MODE=immediate runs its batch), and a
// graceful stop waits for it before it closes the database (main.ts).
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Resolves once no route handler is running (those begun before the call, and any they lead to). */
    handlersIdle(): Promise<void>;
  }
}

export function trackHandlers(app: FastifyInstance): void {
  const running = new Set<Promise<unknown>>();
  app.decorate('handlersIdle', async () => {
    while (running.size > 0) await Promise.allSettled([...running]);
  });
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracked(this: FastifyInstance, request, reply) {
      const result = handler.call(this, request, reply) as unknown;
      if (result instanceof Promise) {
        running.add(result);
        // Only the bookkeeping is chained here: Fastify handles the handler's own outcome.
        result.then(() => running.delete(result), () => running.delete(result));
      }
      return result;
    } as RouteHandlerMethod;
  });
}
