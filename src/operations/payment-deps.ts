// What the payment use cases need, and the views they share.
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../store/db.ts';
import type { MakePaymentClient } from '../delivery/make-payment-client.ts';
import type { PaymentInserter } from '../store/payment-inserter.ts';
import type { EpaymentCreator } from '../store/epayment-creator.ts';
import type { OutboundLimiter } from '../delivery/outbound-limiter.ts';
import type { Notifier } from './psp-v3/notify.ts';
import type { PaymentTokens } from '../security/payment-tokens.ts';
import type { Controls } from './controls.ts';
import type { AttemptRow, LogRow, PaymentRow } from '../store/payments.ts';
import { summarize, type LogEntry } from '../domain/psp-v3/payment.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PaymentDeps {
  config: Config;
  clock: Clock;
  database: Database;
  client: MakePaymentClient;
  log: Logger;
  inserter: PaymentInserter;
  /** Bounds the makePayment calls in flight, per PSP and in all. */
  outbound: OutboundLimiter;
  /** Sends the pending TIMEOUT and USER_CANCEL notifications. */
  notifier: Notifier;
  /** Aborted when the process begins to shut down: long work (a batch run) stops at a safe point. */
  shutdown: AbortSignal;
  /** Derives the tokens of a payment that are stored only as hashes. */
  paymentTokens: PaymentTokens;
  /** The test environment's time travel and fault rules (absent: none). */
  controls?: Controls;
  /** POSTs ePayment card callbacks, within CARD_CALLBACK_TIMEOUT_MS. */
  callbackClient: MakePaymentClient;
  /** The key that seals stored secrets (security/sealed-secrets.ts): the PSPs' client secrets. */
  sealKey: Buffer;
  /** Creates the ePayment payments of one moment in one transaction. */
  epaymentCreator: EpaymentCreator;
  /** Sends the webhook outbox; told when an event was written, so that it looks at once. */
  webhooks?: { wake(): void };
}

/** ISO-8601 with an explicit offset and whole seconds, as the spec's example "2018-06-13T18:34:25-07:00". */
export function isoWithOffset(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** What a log entry needs to be shown: a stored row, or one read as JSON by the details query. */
export interface ShownEntry {
  amount: number;
  paymentText: string | null;
  operation: string;
  success: boolean;
  createdAt: Date;
}

export function logView(entries: ShownEntry[]) {
  return {
    transactionSummary: summarize(entries as LogEntry[]),
    transactionLogHistory: entries.map((e) => ({
      amount: e.amount,
      paymentText: e.paymentText ?? '',
      timeStamp: isoWithOffset(e.createdAt),
      operation: e.operation,
      operationSuccess: e.success,
    })),
  };
}

/** The operator's view of a payment: everything but secrets. */
export function paymentAdminView(p: PaymentRow, log: LogRow[], attempts: AttemptRow[]) {
  return {
    paymentId: p.paymentId,
    pspId: p.pspId,
    pspTransactionId: p.pspTransactionId,
    merchantSerialNumber: p.msn,
    merchantOrderId: p.merchantOrderId,
    amount: p.amount,
    currency: p.currency,
    state: p.state,
    customerMobileNumber: p.customerMobileNumber,
    phone: p.phone,
    paymentText: p.paymentText,
    isApp: p.isApp,
    skipLandingPage: p.skipLandingPage,
    pspRedirectUrl: p.pspRedirectUrl,
    makePaymentUrl: p.makePaymentUrl,
    merchantAgreementUrl: p.merchantAgreementUrl,
    url3dSecure: p.url3dSecure,
    errorId: p.errorId,
    errorText: p.errorText,
    failureReason: p.failureReason,
    expiresAt: p.expiresAt?.toISOString() ?? null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    ...logView(log),
    deliveries: attempts.map((a) => ({
      at: a.createdAt.toISOString(),
      paymentState: a.paymentState,
      url: a.url,
      request: a.requestBody,
      responseStatus: a.responseStatus,
      responseBody: a.responseBody,
      latencyMs: a.latencyMs,
      outcome: a.outcome,
      error: a.error,
      sentAt: a.sentAt?.toISOString() ?? null,
      completedAt: a.completedAt?.toISOString() ?? null,
    })),
  };
}
