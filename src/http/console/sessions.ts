// The console's sessions page: the operator's open sessions (where and when each was used), and
// ending one, or every other one, after a confirmation. The session being used is marked; ending it
// is signing out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { WebError } from '../web/security.ts';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DONE: Record<string, string> = {
  ended: 'The session was ended. Its browser is asked to sign in again at its next request.',
  others: 'Every other session was ended.',
};

/** CONSOLE_IDLE_TIMEOUT_SECONDS in words: "30 minutes", "90 seconds". */
function idleText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
}

function sessionIdOf(request: FastifyRequest): string {
  const { sessionId } = request.params as { sessionId: string };
  if (!SESSION_ID.test(sessionId)) throw new WebError(404, 'Not found', 'There is no such session.');
  return sessionId;
}

export function registerSessionPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  scope.get('/sessions', async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    const sessions = await ctx.session.list(request);
    return ctx.page(request, reply, {
      view: 'console/sessions', title: 'Sessions', notice: typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done] : undefined,
      data: { sessions, others: sessions.filter((s) => !s.current).length, idle: idleText(ctx.services.config.consoleIdleTimeoutSeconds) },
    });
  });

  function confirm(request: FastifyRequest, reply: FastifyReply, text: { heading: string; explain: string; button: string; action: string }) {
    return ctx.page(request, reply, { view: 'console/session-end', title: text.heading, data: text });
  }

  scope.get('/sessions/end-others', async (request, reply) => confirm(request, reply, {
    heading: 'End every other session', button: 'End every other session', action: '/console/sessions/end-others',
    explain: 'Every browser signed in to this console but this one will have to sign in again, also where a session cookie was copied.',
  }));

  scope.get('/sessions/:sessionId/end', async (request, reply) => {
    const sessionId = sessionIdOf(request);
    const own = await ctx.session.current(request);
    return confirm(request, reply, own?.sessionId === sessionId
      ? { heading: 'Sign out of this browser', button: 'Sign out', action: `/console/sessions/${sessionId}/end`, explain: 'This ends the session you are using now.' }
      : { heading: 'End this session', button: 'End the session', action: `/console/sessions/${sessionId}/end`, explain: 'Its browser will have to sign in again at its next request.' });
  });

  scope.post('/sessions/:sessionId/end', async (request, reply) => {
    ctx.form(request);
    const sessionId = sessionIdOf(request);
    const own = await ctx.session.current(request);
    if (own?.sessionId === sessionId) {
      await ctx.session.end(request, reply);
      request.log.info('console session ended by its operator (sign-out)');
      return reply.redirect('/console/sign-in', 303);
    }
    if (!(await ctx.session.endById(request, sessionId))) throw new WebError(404, 'Not found', 'That session has already ended.');
    request.log.info({ sessionId }, 'console session ended from the console');
    return reply.redirect('/console/sessions?done=ended', 303);
  });

  scope.post('/sessions/end-others', async (request, reply) => {
    ctx.form(request);
    const ended = await ctx.session.endOthers(request);
    request.log.info({ ended }, 'other console sessions ended from the console');
    return reply.redirect('/console/sessions?done=others', 303);
  });
}
