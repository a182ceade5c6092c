// The PSP API's request and response types: aliases of the types generated from
// openapi/psp-api.openapi.yaml (generated/psp-api.ts, renewed by `npm run generate:types`).
import type { components } from './generated/psp-api.ts';

type Schemas = components['schemas'];

export type InitiatePaymentRequest = Schemas['InitiatePaymentRequest'];
export type PaymentInitiationRepresentation = Schemas['PaymentInitiationRepresentation'];
export type PaymentDetailsRepresentation = Schemas['PaymentDetailsRepresentation'];
export type PaymentStatus = Schemas['PaymentStatus'];
export type TransactionInfo = Schemas['TransactionInfo'];
export type UpdateStatusResponse = Schemas['Response'];
export type ForceApproveRequest = Schemas['ForceApproveRequest'];
export type ErrorDetails = Schemas['ErrorDetails'];
export type MakePaymentRequest = Schemas['MakePaymentRequest'];
export type MakePaymentResponse = Schemas['MakePaymentResponse'];
export type NetworkToken = Schemas['NetworkToken'];
export type Operation3DSecure = Schemas['Operation3DSecure'];

/**
 * The makePayment call that tells the PSP a payment ended without a token (the user cancelled, or
 * it timed out): only these three fields are sent.
 */
export interface MakePaymentNotification {
  pspTransactionId: MakePaymentRequest['pspTransactionId'];
  merchantSerialNumber: MakePaymentRequest['merchantSerialNumber'];
  paymentState: Exclude<MakePaymentRequest['paymentState'], 'ACCEPTED'>;
}

/** What a PSP's makePaymentUrl receives: the token (ACCEPTED) or a notification (TIMEOUT, USER_CANCEL). */
export type MakePaymentCall = (MakePaymentRequest & { paymentState: 'ACCEPTED' }) | MakePaymentNotification;
