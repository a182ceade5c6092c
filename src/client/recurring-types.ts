// The Recurring API's types: aliases of the types generated from the Recurring document this server
// serves (the published one with the PSP parts merged in: generated/recurring.ts); renewed by
// `npm run generate:types`.
import type { components as R } from './generated/recurring.ts';

type S = R['schemas'];

/** A PSP's draft agreement: the published v3 draft with its cardPassthrough. */
export type DraftAgreement = S['DraftAgreementV3'];
export type DraftAgreementResponse = S['DraftAgreementResponseV3'];
export type Agreement = S['AgreementResponseV3'];
export type AgreementStatus = S['AgreementStatus'];
export type AgreementPatch = S['PatchAgreementV3'];
export type CardPassthroughAgreement = S['CardPassthroughAgreement'];
export type Charge = S['ChargeResponseV3'];
export type ChargeStatus = S['ChargeStatus'];
/** One charge of a v4 batch. */
export type ChargeBatchItem = S['ChargeBatchItem'];
export type ChargeBatchOutcome = S['ChargeBatchOutcome'];
export type ChargeBatchResponse = S['ChargeBatchResponse'];
export type PaymentInfo = S['PaymentInfoResponse'];
export type ChargeResult = S['ChargeResult'];
export type RecurringCardInfo = S['CardInfo'];
export type ErrorV3 = S['ErrorV3'];
