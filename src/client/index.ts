// vipps-psp/client: a typed PSP API v3 client, the API's types (generated from the official
// OpenAPI document) and the validation of the makePayment body a PSP receives.
export {
  VippsPspClient, VippsPspError, splitStatusUpdates,
  VIPPS_TEST_BASE_URL, VIPPS_PRODUCTION_BASE_URL, MAX_STATUS_UPDATES_PER_REQUEST, MAX_STATUS_BODY_BYTES,
  type VippsPspClientOptions, type RequestOptions, type InitOptions, type UpdateStatusOptions,
} from './client.ts';
export { parseMakePayment, MakePaymentParseError } from './make-payment.ts';
export type * from './types.ts';
export type { components, paths, operations } from './generated/psp-api.ts';
