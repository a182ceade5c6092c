// vipps-psp/client: typed clients of PSP API v3 and of the ePayment, Webhooks and Recurring APIs, their types
// (generated from the official OpenAPI documents), the validation of the makePayment body a PSP
// receives, and the verification of the card callbacks and webhooks its endpoints receive.
export {
  VippsPspClient, VippsPspError, splitStatusUpdates,
  VIPPS_TEST_BASE_URL, VIPPS_PRODUCTION_BASE_URL, MAX_STATUS_UPDATES_PER_REQUEST, MAX_STATUS_BODY_BYTES,
  type VippsPspClientOptions, type RequestOptions, type InitOptions, type UpdateStatusOptions,
} from './client.ts';
export { parseMakePayment, MakePaymentParseError } from './make-payment.ts';
export type * from './types.ts';
export type { components, paths, operations } from './generated/psp-api.ts';
export { EpaymentClient, VippsProblemError, type EpaymentClientOptions, type CallOptions, type KeyedOptions, type WebhookScope } from './epayment.ts';
export { verifyCardCallback, verifyWebhook, verifySignedRequest, cardCallbackAnswer, SignatureError, type SignedRequest } from './verify.ts';
export type * from './epayment-types.ts';
export type { components as epaymentComponents, paths as epaymentPaths } from './generated/epayment.ts';
export type { components as webhooksComponents, paths as webhooksPaths } from './generated/webhooks.ts';
export { RecurringClient, type RecurringClientOptions, type RecurringKeyedOptions } from './recurring.ts';
export type * from './recurring-types.ts';
export type { components as recurringComponents, paths as recurringPaths } from './generated/recurring.ts';
