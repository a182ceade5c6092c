// The ePayment and Webhooks APIs' types: aliases of the types generated from the ePayment document
// this server serves (the published one with the PSP parts merged in: generated/epayment.ts) and from
// openapi/webhooks.openapi.yaml (generated/webhooks.ts); renewed by `npm run generate:types`.
import type { components as E } from './generated/epayment.ts';
import type { components as W } from './generated/webhooks.ts';

type S = E['schemas'];

export type Amount = S['Amount'];
export type CardPassthrough = S['CardPassthrough'];
/** A create request of a PSP: paymentMethod CARD_PASSTHROUGH with its cardPassthrough. */
export type CreatePaymentRequest = S['CreatePaymentRequest'];
export type CreatePaymentResponse = S['CreatePaymentResponse'];
export type GetPaymentResponse = S['GetPaymentResponse'];
export type ModificationResponse = S['ModificationResponse'];
export type PaymentEvent = S['PaymentEvent'];
export type Problem = S['Problem'];
/** The body the wallet POSTs to the PSP's cardCallbackUrl. */
export type CardCallbackRequest = S['CardCallbackRequest'];
/** The PSP's answer to a card callback. */
export type CardCallbackResponse = S['CardCallbackResponse'];
/** The body of an ePayment webhook delivery. */
export type WebhookEvent = S['WebhookEvent'];

export type WebhookRegistration = W['schemas']['RegisterRequest'];
export type RegisteredWebhook = W['schemas']['Webhook'];

/** The ePayment event types a webhook may be registered for. */
export type WebhookEventType =
  | 'epayments.payment.created.v1' | 'epayments.payment.aborted.v1' | 'epayments.payment.expired.v1' | 'epayments.payment.cancelled.v1'
  | 'epayments.payment.captured.v1' | 'epayments.payment.refunded.v1' | 'epayments.payment.authorized.v1' | 'epayments.payment.terminated.v1';
