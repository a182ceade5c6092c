// The Webhooks API's registrations: POST, GET and DELETE /webhooks/v1/webhooks. A PSP registers for one
// of its sales units (Merchant-Serial-Number) or, without one, for all of them, present and future.
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError } from '../../domain/errors.ts';
import { REGISTRATIONS_PER_EVENT, validateRegistration } from '../../domain/webhooks.ts';
import { seal } from '../../security/sealed-secrets.ts';
import { deleteWebhook, insertWebhook, listWebhooks } from '../../store/webhooks.ts';
import type { PaymentDeps } from '../payment-deps.ts';

const badRequest = (details: Array<{ name: string; reason: string }>, detail = 'See extraDetails for further details') =>
  new ApiError(400, 'validation_error', detail, { title: 'Bad Request', details });

export async function registerWebhook(deps: PaymentDeps, pspId: string, msn: string | undefined, body: unknown): Promise<{ id: string; secret: string }> {
  const checked = validateRegistration(body, deps.config.allowPrivateCallbacks);
  if ('problems' in checked) throw badRequest(checked.problems);
  const id = randomUUID();
  // As long as the one in the published signing example: 64 random bytes, base64.
  const secret = randomBytes(64).toString('base64');
  const { full } = await insertWebhook(deps.database.db, {
    webhookId: id, pspId, msn: msn ?? null, url: checked.url, events: checked.events, secretSealed: seal(deps.sealKey, secret), createdAt: deps.clock.now(),
  }, REGISTRATIONS_PER_EVENT);
  if (full.length > 0) {
    throw badRequest(full.map((e) => ({ name: 'events', reason: `${e} already has ${REGISTRATIONS_PER_EVENT} registrations ${msn ? `for sales unit ${msn}` : 'for this PSP'}; delete one first.` })),
      `Too many registrations: at most ${REGISTRATIONS_PER_EVENT} per event type ${msn ? 'and sales unit' : 'for a PSP\'s own registrations'}.`);
  }
  deps.log.info({ pspId, msn: msn ?? null, webhookId: id, events: checked.events }, 'webhook registered');
  return { id, secret };
}

export async function listRegistrations(deps: PaymentDeps, pspId: string, msn: string | undefined) {
  const found = await listWebhooks(deps.database.db, pspId, msn ?? null);
  return { webhooks: found.map((w) => ({ id: w.webhookId, url: w.url, events: w.events })) };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function deleteRegistration(deps: PaymentDeps, pspId: string, msn: string | undefined, id: string): Promise<void> {
  if (!GUID.test(id)) throw badRequest([{ name: 'id', reason: `The value '${id.slice(0, 60)}' is not valid: the id is a GUID.` }]);
  if (!(await deleteWebhook(deps.database.db, pspId, msn ?? null, id.toLowerCase()))) {
    throw new ApiError(404, 'webhook_not_found', `No webhook ${id} is registered ${msn ? `for sales unit ${msn}` : 'for this PSP without a Merchant-Serial-Number'}.`, { title: 'Not Found' });
  }
}
