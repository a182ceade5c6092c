// The console's PSPs: the list, creating one (its secrets shown once, with the curl that gets an
// access token), and rotating a PSP's client secret after a confirmation.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { createPsp, listPspSummaries, rotateClientSecret } from '../../operations/psps.ts';
import { findPspById } from '../../store/psps.ts';
import { merchantCounts } from '../../store/console-lists.ts';
import { WebError } from '../web/security.ts';

const PSP_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A value in single quotes for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The curl that gets an access token with these credentials from this server. */
export function tokenCurl(publicUrl: string, c: { clientId: string; clientSecret: string; subscriptionKey?: string }): string {
  return [
    `curl -X POST ${shellQuote(`${publicUrl}/accessToken/get`)}`,
    `  -H ${shellQuote(`client_id: ${c.clientId}`)}`,
    `  -H ${shellQuote(`client_secret: ${c.clientSecret}`)}`,
    `  -H ${shellQuote(`Ocp-Apim-Subscription-Key: ${c.subscriptionKey ?? '<your subscription key>'}`)}`,
  ].join(' \\\n');
}

export function registerPspPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const db = ctx.services.database.db;
  const publicUrl = ctx.services.config.publicUrl;

  const consoleCredentials = ctx.services.adminToken.consoleCredentials;

  async function listPage(request: FastifyRequest, reply: FastifyReply, extra: { status?: number; error?: string; name?: string; notice?: string } = {}) {
    const own = ctx.scope(request);
    const [psps, counts] = [(await listPspSummaries(db)).filter((p) => own === undefined || p.pspId === own), await merchantCounts(db)];
    // The console credentials are the operator's to issue and revoke.
    const credentials = own === undefined && consoleCredentials ? await Promise.all(psps.map((p) => consoleCredentials.list(p.pspId))) : psps.map(() => []);
    return ctx.page(request, reply, {
      view: 'console/psps', title: 'PSPs', section: 'psps', status: extra.status, notice: extra.notice,
      data: {
        psps: psps.map((p, i) => ({ ...p, merchants: counts.get(p.pspId) ?? 0, credentials: credentials[i] })), error: extra.error, name: extra.name ?? '',
        operator: own === undefined && consoleCredentials !== undefined,
      },
    });
  }

  async function pspOf(request: FastifyRequest, raw: unknown) {
    if (typeof raw !== 'string' || !PSP_ID.test(raw)) throw new WebError(404, 'Not found', 'There is no such PSP.');
    ctx.own(request, raw.toUpperCase(), 'PSP');
    const psp = await findPspById(db, raw.toUpperCase());
    if (!psp) throw new WebError(404, 'Not found', `There is no PSP with id ${raw}.`);
    return psp;
  }

  scope.get('/psps', async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    return listPage(request, reply, { notice: done === 'revoked' ? 'The console credential is revoked: it is refused from now on, and its sessions have ended.' : undefined });
  });

  scope.post('/psps/:pspId/console-credentials', async (request, reply) => {
    const form = ctx.form(request);
    ctx.operatorOnly(request, 'Issuing console credentials');
    const psp = await pspOf(request, (request.params as { pspId: string }).pspId);
    const name = (form.name ?? '').trim();
    if (name === '' || name.length > 200) return listPage(request, reply, { status: 400, error: 'Name who the console credential is for (1 to 200 characters).' });
    if (!consoleCredentials) throw new WebError(404, 'Not found', 'Console credentials are not available on this server.');
    const credential = await consoleCredentials.issue(psp.pspId, name);
    request.log.info({ pspId: psp.pspId, credentialId: credential.credentialId }, 'console credential issued from the console');
    return ctx.page(request, reply, { view: 'console/credential', title: `Console credential for ${name}`, section: 'psps', status: 201, data: { credential } });
  });

  scope.post('/psps/:pspId/console-credentials/:credentialId/revoke', async (request, reply) => {
    ctx.form(request);
    ctx.operatorOnly(request, 'Revoking console credentials');
    const { pspId, credentialId } = request.params as { pspId: string; credentialId: string };
    const psp = await pspOf(request, pspId);
    if (!consoleCredentials) throw new WebError(404, 'Not found', 'Console credentials are not available on this server.');
    await consoleCredentials.revoke(psp.pspId, credentialId);
    return reply.redirect(`/console/psps?done=revoked#psp-${psp.pspId}`, 303);
  });

  scope.post('/psps', async (request, reply) => {
    const form = ctx.form(request);
    ctx.operatorOnly(request, 'Creating a PSP');
    const name = (form.name ?? '').trim();
    if (name === '' || name.length > 200) {
      return listPage(request, reply, { status: 400, error: 'Give the PSP a name of 1 to 200 characters.', name: name.slice(0, 200) });
    }
    const created = await createPsp(db, name);
    request.log.info({ pspId: created.pspId }, 'PSP created from the console');
    // The secrets are in this answer only (never in a URL or a later page).
    return ctx.page(request, reply, {
      view: 'console/psp-secret', title: `PSP ${created.name} created`, section: 'psps', status: 201,
      data: { created: true, psp: created, curl: tokenCurl(publicUrl, created) },
    });
  });

  scope.get('/psps/:pspId/rotate-secret', async (request, reply) => {
    const psp = await pspOf(request, (request.params as { pspId: string }).pspId);
    return ctx.page(request, reply, {
      view: 'console/psp-rotate', title: `Rotate the client secret of ${psp.name}`, section: 'psps',
      data: { psp: { pspId: psp.pspId, name: psp.name, clientId: psp.clientId } },
    });
  });

  scope.post('/psps/:pspId/rotate-secret', async (request, reply) => {
    ctx.form(request);
    const psp = await pspOf(request, (request.params as { pspId: string }).pspId);
    const rotated = await rotateClientSecret(ctx.services.database.db, psp.pspId);
    request.log.info({ pspId: rotated.pspId }, 'PSP client secret rotated from the console');
    return ctx.page(request, reply, {
      view: 'console/psp-secret', title: `New client secret for ${rotated.name}`, section: 'psps',
      data: { created: false, psp: rotated, curl: tokenCurl(publicUrl, rotated) },
    });
  });
}
