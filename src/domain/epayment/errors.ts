// The ePayment API's error catalogue: each domain code with its title and HTTP status, in one table.
// The HTTP layer renders an EpaymentError as the API's Problem JSON, with the code in
// `extraDetails: [{"name": "ErrorCode", "reason": "6090"}]`. Only 5070's status (422) is published;
// the others follow the status lists of the published document (400, 403, 404, 409) and are kept
// here so that a correction is one line (see the README's ePayment decisions).
import { ApiError, type FieldProblem } from '../errors.ts';

const CATALOGUE = {
  3010: [500, 'Internal error'],
  4010: [409, 'Capture idempotency conflict'],
  4020: [409, 'Idempotency error'],
  4040: [400, 'Invalid amount'],
  4070: [400, 'Invalid phone number'],
  4080: [400, 'Invalid scope'],
  4090: [400, 'Invalid URL'],
  4100: [400, 'Metadata capacity exceeded'],
  4110: [400, 'Metadata duplicate keys not allowed'],
  4120: [400, 'Metadata key length exceeded'],
  4130: [400, 'Metadata value length exceeded'],
  4140: [400, 'Missing required parameter'],
  4150: [409, 'Reference exists'],
  4160: [400, 'Invalid payment method type'],
  5050: [403, 'Long-living payment not allowed'],
  5070: [422, 'Payment cannot be created'],
  5090: [404, 'Reference not found'],
  6010: [400, 'Amount too small'],
  6020: [400, 'Attempted refund before reservation'],
  6040: [400, 'Cannot cancel a captured payment'],
  6060: [400, 'Cannot cancel authorized payment'],
  6070: [400, 'Cannot capture a cancelled payment'],
  6080: [400, 'Cannot capture before reservation'],
  6090: [400, 'Capture amount too high'],
  6110: [400, 'Expiration date is too late'],
  6120: [400, 'Expiration date is too soon'],
  6130: [400, 'Long living payments require a receipt'],
  6150: [400, 'Not enough refundable'],
  6160: [423, 'Order processing'],
  6190: [400, 'Payment cannot be cancelled'],
  6200: [400, 'Payment cannot be captured'],
  6210: [400, 'Payment cannot be refunded'],
  6250: [400, 'Cannot cancel processing payment'],
  7010: [400, 'Customer not found'],
  10010: [400, 'Approve failed'],
  10020: [400, 'Approve not allowed'],
  10030: [400, 'Identification required'],
  10050: [400, 'No cards'],
} as const satisfies Record<number, readonly [number, string]>;

export type EpaymentCode = keyof typeof CATALOGUE;

/** A domain error of the ePayment API: its code decides the status and the title. */
export class EpaymentError extends ApiError {
  readonly epaymentCode: EpaymentCode;
  constructor(code: EpaymentCode, detail: string) {
    const [status, title] = CATALOGUE[code];
    super(status, String(code), detail, { title });
    this.epaymentCode = code;
  }
}

export function epaymentError(code: EpaymentCode, detail: string): EpaymentError {
  return new EpaymentError(code, detail);
}

/** A schema error: 400 "Bad Request" naming each field, with no error code (as the API answers). */
export function schemaError(problems: FieldProblem[]): ApiError {
  return new ApiError(400, 'validation_error', 'See extraDetails for further details', { title: 'Bad Request', details: problems });
}
