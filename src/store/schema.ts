// The one Drizzle schema. `npm run db:generate` turns changes here into a migration in ./drizzle,
// which both PGlite and PostgreSQL run.
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** A payment service provider: the API client. Secrets are stored only as hashes. */
export const psps = pgTable('psps', {
  pspId: text('psp_id').primaryKey(),
  name: text('name').notNull(),
  clientId: text('client_id').notNull().unique(),
  clientSecretHash: text('client_secret_hash').notNull(),
  /** sha256 of the subscription key: it is looked up on every request, so it needs a deterministic hash. */
  subscriptionKeyHash: text('subscription_key_hash').notNull().unique(),
  /**
   * The client secret sealed (AES-256-GCM, security/sealed-secrets.ts): the ePayment card callback is
   * signed with it, so it must be recoverable. Null for a PSP whose secret predates sealing until its
   * secret is rotated.
   */
  clientSecretSealed: text('client_secret_sealed'),
  createdAt: createdAt(),
});

/**
 * The public keys a PSP registered for encryptedPan (ePayment cardPassthrough.publicEncryptionKeyId):
 * RSA, at least 2048 bits, stored as SPKI PEM. A standalone Dankort has no network token; its card
 * number goes to the PSP encrypted with the key the payment names.
 */
export const pspEncryptionKeys = pgTable(
  'psp_encryption_keys',
  {
    keyId: uuid('key_id').primaryKey(),
    pspId: text('psp_id').notNull().references(() => psps.pspId, { onDelete: 'cascade' }),
    publicKeyPem: text('public_key_pem').notNull(),
    bits: integer('bits').notNull(),
    /** sha256 of the key's DER (SPKI), hex: what the PSP compares with its own. */
    fingerprint: text('fingerprint').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('psp_encryption_keys_psp_idx').on(t.pspId, t.createdAt)],
);

/**
 * Client credentials (client_id and secret) verified with scrypt, remembered as an HMAC with a key
 * kept in the settings for as long as the token issued for them lives, so that every process answers
 * their next token request without scrypt and without the failed-attempt limits. A secret rotation
 * deletes its PSP's rows in the same transaction.
 */
export const verifiedCredentials = pgTable(
  'verified_credentials',
  {
    digest: text('digest').primaryKey(),
    pspId: text('psp_id').notNull().references(() => psps.pspId),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('verified_credentials_psp_idx').on(t.pspId)],
);

/**
 * Console credentials the operator issues to a PSP's people: they sign in to the console and call the
 * operator API with it, and see and act on that PSP's objects only. Only the token's sha256 is kept. A
 * revoked credential (revoked_at) is refused at once, and its console sessions end with it.
 */
export const consoleCredentials = pgTable(
  'console_credentials',
  {
    credentialId: uuid('credential_id').primaryKey().defaultRandom(),
    pspId: text('psp_id').notNull().references(() => psps.pspId, { onDelete: 'cascade' }),
    /** Who it is for ("Ada at Acme PSP"), shown in the audit log. */
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [index('console_credentials_psp_idx').on(t.pspId, t.createdAt)],
);

/**
 * Every action in the console and the operator API (every request that may change something): who
 * (the operator, or a PSP's credential), what (the method and route), on which object, when, from
 * which address, and the answer's status.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    auditId: bigserial('audit_id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** operator | psp */
    actorKind: text('actor_kind').notNull(),
    /** The acting PSP (null: the operator). */
    actorPspId: text('actor_psp_id'),
    credentialId: uuid('credential_id'),
    actorName: text('actor_name').notNull(),
    /** console | operator-api */
    via: text('via').notNull(),
    method: text('method').notNull(),
    route: text('route').notNull(),
    /** The route's parameters: which object. */
    object: jsonb('object').$type<Record<string, string>>().notNull(),
    /** The PSP whose object it is, when known (the actor's, for a PSP). */
    pspId: text('psp_id'),
    status: integer('status').notNull(),
    address: text('address'),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_psp_idx').on(t.pspId, t.at), index('audit_log_actor_psp_idx').on(t.actorPspId, t.at)],
);

/**
 * Operator console sessions. The cookie holds a random token; only its sha256 is stored. A session
 * ends at sign-out (ended_at), after CONSOLE_IDLE_TIMEOUT_SECONDS without a request, 12 hours after
 * sign-in, or when ADMIN_TOKEN changes (admin_token_hash no longer the current one).
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    sessionId: uuid('session_id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull().unique(),
    adminTokenHash: text('admin_token_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    address: text('address'),
    userAgent: text('user_agent'),
    /** A PSP's session: signed in with this console credential (null: the operator's). */
    credentialId: uuid('credential_id').references(() => consoleCredentials.credentialId, { onDelete: 'cascade' }),
    pspId: text('psp_id'),
  },
  (t) => [index('console_sessions_open_idx').on(t.lastSeenAt).where(sql`ended_at is null`)],
);

export interface MerchantAddress {
  addressLine1: string;
  addressLine2?: string | null;
  city: string;
  postCode: string;
  country: string;
}

/** A sales unit, identified by its MSN, belonging to exactly one PSP. */
export const merchants = pgTable(
  'merchants',
  {
    msn: text('msn').primaryKey(),
    pspId: text('psp_id').notNull().references(() => psps.pspId),
    name: text('name').notNull(),
    companyName: text('company_name').notNull(),
    companyEmail: text('company_email').notNull(),
    organizationNumber: text('organization_number').notNull(),
    mccCode: text('mcc_code'),
    email: text('email'),
    website: text('website'),
    logo: text('logo'),
    address: jsonb('address').$type<MerchantAddress>().notNull(),
    /** ACTIVE | DEACTIVATED | PENDING, as the Signup API names them. */
    status: text('status').notNull().default('ACTIVE'),
    skipLandingPage: boolean('skip_landing_page').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('merchants_psp_idx').on(t.pspId, t.createdAt)],
);

/** Test users of the simulated Vipps app, by 8-digit phone number. */
export const testUsers = pgTable('test_users', {
  phone: text('phone').primaryKey(),
  name: text('name').notNull(),
  /** scrypt hash of the app login PIN; null: no PIN (such a user logs in only in the test environment). */
  pinHash: text('pin_hash'),
  /** The PSP whose people made the user (null: made by the operator, or seeded). */
  ownerPspId: text('owner_psp_id').references(() => psps.pspId, { onDelete: 'set null' }),
  createdAt: createdAt(),
});

export const cards = pgTable(
  'cards',
  {
    cardId: uuid('card_id').primaryKey().default(sql`gen_random_uuid()`),
    phone: text('phone').notNull().references(() => testUsers.phone, { onDelete: 'cascade' }),
    /** VISA | MASTERCARD */
    brand: text('brand').notNull(),
    last4: text('last4').notNull(),
    expiryMonth: text('expiry_month').notNull(),
    expiryYear: text('expiry_year').notNull(),
    position: integer('position').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index('cards_phone_idx').on(t.phone, t.position)],
);

/** Signing keys for access tokens; generated once, shared by every process on the database. */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>().notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: createdAt(),
});

/** Small persistent settings (the generated admin token's hash, the seed marker, …). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  createdAt: createdAt(),
});

/** Stored first responses for requests that carried an Idempotency-Key. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    pspId: text('psp_id').notNull(),
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code'),
    responseBody: jsonb('response_body'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.pspId, t.scope, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * A PSP API v3 payment. `state` is one of the states in domain/psp-v3/payment.ts. `expiresAt` is the deadline of
 * the current user-facing phase; `leaseUntil` bounds a makePayment delivery in flight, so a delivery
 * whose process died is resolved by whichever process sweeps next.
 */
export const payments = pgTable(
  'payments',
  {
    paymentId: uuid('payment_id').primaryKey().default(sql`gen_random_uuid()`),
    pspId: text('psp_id').notNull(),
    pspTransactionId: text('psp_transaction_id').notNull(),
    msn: text('msn').notNull(),
    merchantOrderId: text('merchant_order_id').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    customerMobileNumber: text('customer_mobile_number'),
    pspRedirectUrl: text('psp_redirect_url').notNull(),
    makePaymentUrl: text('make_payment_url').notNull(),
    makePaymentToken: text('make_payment_token'),
    paymentText: text('payment_text'),
    isApp: boolean('is_app').notNull().default(false),
    skipLandingPage: boolean('skip_landing_page').notNull().default(false),
    merchantAgreementUrl: text('merchant_agreement_url'),
    /** sha256 of the opaque token in the vippsRedirectUrl. */
    tokenHash: text('token_hash').notNull(),
    /** sha256 of the opaque reference in the 3-D Secure operation URLs (derived again when it is sent). */
    threeDsRef: text('three_ds_ref').notNull(),
    state: text('state').notNull(),
    phone: text('phone'),
    cardId: uuid('card_id'),
    url3dSecure: text('url_3d_secure'),
    deliveryRound: integer('delivery_round').notNull().default(0),
    /** Running totals of the applied log, kept in step with payment_log for the batch's rule checks. */
    reservedAmount: integer('reserved_amount').notNull().default(0),
    capturedAmount: integer('captured_amount').notNull().default(0),
    cancelledAmount: integer('cancelled_amount').notNull().default(0),
    refundedAmount: integer('refunded_amount').notNull().default(0),
    errorId: text('error_id'),
    errorText: text('error_text'),
    failureReason: text('failure_reason'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    /**
     * The init request's headers that tell who sent it, by lowercased name: idempotency-key,
     * request-id, vipps-system-name, -version, -plugin-name, -plugin-version (only those present).
     */
    initHeaders: jsonb('init_headers').$type<Record<string, string>>(),
    /** When the user got past the landing page (or opened the isApp deeplink). */
    landingPassedAt: timestamp('landing_passed_at', { withTimezone: true }),
    /** When the user first opened the payment in the app. */
    appOpenedAt: timestamp('app_opened_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payments_psp_tx_uq').on(t.pspId, t.pspTransactionId),
    index('payments_tx_idx').on(t.pspTransactionId),
    uniqueIndex('payments_msn_order_uq').on(t.msn, t.merchantOrderId),
    uniqueIndex('payments_token_uq').on(t.tokenHash),
    uniqueIndex('payments_3ds_uq').on(t.threeDsRef),
    index('payments_due_idx').on(t.expiresAt).where(sql`state in ('INITIATED', 'AWAITING_USER', 'AWAITING_3DS')`),
    index('payments_lease_idx').on(t.leaseUntil).where(sql`state = 'DELIVERING'`),
    index('payments_phone_idx').on(t.phone, t.createdAt),
    // The operator console's list, newest first by (created_at, payment_id): all payments, a PSP's, an
    // MSN's, a PSP's in one state (also the go-live report's searches). A state filter on its own, or
    // with an MSN, reads one of these and skips the other states' rows: every index here is written
    // by each init and each change of state, so there is not one for every combination.
    index('payments_created_idx').on(t.createdAt, t.paymentId),
    index('payments_psp_created_idx').on(t.pspId, t.createdAt, t.paymentId),
    index('payments_msn_created_idx').on(t.msn, t.createdAt, t.paymentId),
    index('payments_psp_state_created_idx').on(t.pspId, t.state, t.createdAt, t.paymentId),
    index('payments_order_idx').on(t.merchantOrderId),
  ],
);

/** The transactionLogHistory of a payment: one row per operation, in order. */
export const paymentLog = pgTable(
  'payment_log',
  {
    entryId: bigserial('entry_id', { mode: 'number' }).primaryKey(),
    paymentId: uuid('payment_id').notNull().references(() => payments.paymentId),
    operation: text('operation').notNull(),
    amount: integer('amount').notNull(),
    paymentText: text('payment_text'),
    success: boolean('success').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('payment_log_payment_idx').on(t.paymentId, t.entryId)],
);

/**
 * Every makePayment request to a PSP, written ahead: recorded before it is sent and completed with
 * the answer after, so a process that dies mid-call leaves an ABANDONED record, never a gap.
 * `outcome` is PENDING (a notification waiting for a free connection to its PSP), IN_FLIGHT (sent at
 * `sentAt`, its answer due before `leaseUntil`), ABANDONED (no answer was recorded), or the result:
 * RESERVED / FAILED / AWAITING_3DS for a token delivery, NOTIFIED / NOT_DELIVERED for a notification.
 */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    attemptId: bigserial('attempt_id', { mode: 'number' }).primaryKey(),
    paymentId: uuid('payment_id').notNull().references(() => payments.paymentId),
    paymentState: text('payment_state').notNull(),
    url: text('url').notNull(),
    requestBody: jsonb('request_body').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    latencyMs: integer('latency_ms'),
    outcome: text('outcome').notNull(),
    error: text('error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('delivery_attempts_payment_idx').on(t.paymentId, t.attemptId),
    // The console's overview: deliveries that failed to reach their PSP or got no answer.
    index('delivery_attempts_trouble_idx').on(t.createdAt).where(sql`outcome in ('NOT_DELIVERED', 'ABANDONED') or error is not null`),
    index('delivery_attempts_pending_idx').on(t.attemptId).where(sql`outcome = 'PENDING'`),
    index('delivery_attempts_in_flight_idx').on(t.leaseUntil).where(sql`outcome = 'IN_FLIGHT'`),
  ],
);

/** Status updates as received from the PSP, in arrival order; applied by the batch. */
export const statusUpdates = pgTable(
  'status_updates',
  {
    updateId: bigserial('update_id', { mode: 'number' }).primaryKey(),
    pspId: text('psp_id').notNull(),
    pspTransactionId: text('psp_transaction_id').notNull(),
    status: text('status').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    paymentText: text('payment_text'),
    operationStatus: text('operation_status').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when a batch run processed the update (applied or rejected). */
    processedAt: timestamp('processed_at', { withTimezone: true }),
    runId: bigint('run_id', { mode: 'number' }),
    /** APPLIED | REJECTED */
    outcome: text('outcome'),
    reason: text('reason'),
  },
  (t) => [
    index('status_updates_pending_idx').on(t.updateId).where(sql`processed_at is null`),
    index('status_updates_rejected_idx').on(t.runId).where(sql`outcome = 'REJECTED'`),
    // A payment's updates, for the operator console's timeline of the payment.
    index('status_updates_payment_idx').on(t.pspId, t.pspTransactionId, t.updateId),
    // The console's rejected updates of one PSP, newest first.
    index('status_updates_rejected_psp_idx').on(t.pspId, t.updateId).where(sql`outcome = 'REJECTED'`),
  ],
);

/**
 * One run of the status batch. Its figures grow with each committed chunk (in the chunk's own
 * transaction), so they are true also for a run whose process died. A run is running while its
 * lease is renewed, finished when `finishedAt` is set, and interrupted otherwise.
 */
export const batchRuns = pgTable('batch_runs', {
  runId: bigserial('run_id', { mode: 'number' }).primaryKey(),
  /** schedule | manual | immediate */
  trigger: text('trigger').notNull(),
  /** For scheduled runs: the cron tick this run is for (unique, so one process runs each tick). */
  scheduledFor: timestamp('scheduled_for', { withTimezone: true }).unique(),
  /** For immediate mode: the minute whose runs this row adds up (unique, so one row per minute). */
  aggregateWindow: text('aggregate_window').unique(),
  /** How many runs this row adds up (immediate mode: one per request that stored updates). */
  invocations: integer('invocations').notNull().default(1),
  /** The interrupted run whose leftover updates this run took up. */
  resumesRunId: bigint('resumes_run_id', { mode: 'number' }),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  /** Renewed at every chunk; a run past it without finishing was interrupted. */
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  /** Set when the run stopped early on a shutdown. */
  interruptedAt: timestamp('interrupted_at', { withTimezone: true }),
  applied: integer('applied').notNull().default(0),
  rejected: integer('rejected').notNull().default(0),
  rejectedByReason: jsonb('rejected_by_reason').$type<Record<string, number>>().notNull().default({}),
  durationMs: integer('duration_ms'),
});

/**
 * Facts that have no row of their own elsewhere: operator console actions (console.approve,
 * console.reject, console.expire, console.redeliver) and the PSP API's error answers to an
 * authenticated PSP (api.error). `data` holds the kind's details.
 */
export const events = pgTable(
  'events',
  {
    eventId: bigserial('event_id', { mode: 'number' }).primaryKey(),
    pspId: text('psp_id').notNull(),
    paymentId: uuid('payment_id'),
    kind: text('kind').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_payment_idx').on(t.paymentId, t.eventId).where(sql`payment_id is not null`),
    index('events_psp_kind_idx').on(t.pspId, t.kind, t.eventId),
    // The newest api.error events of a PSP with a given error code (the go-live report).
    index('events_api_error_code_idx').on(t.pspId, sql`(${t.data}->>'errorCode')`, t.eventId).where(sql`kind = 'api.error'`),
  ],
);

/**
 * The test environment's shared controls, one row (id 1): the clock offset every process adds to
 * its own time, and a version that moves whenever the fault rules change. Each process caches both
 * and polls this row (see operations/controls.ts).
 */
export const testControls = pgTable('test_controls', {
  id: integer('id').primaryKey(),
  clockOffsetMs: bigint('clock_offset_ms', { mode: 'number' }).notNull().default(0),
  faultsVersion: bigint('faults_version', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A fault injection rule (test environment): which requests it matches (`route`, optionally a PSP,
 * an MSN, a pspTransactionId), what it does to them (an error status, a delay, a dropped
 * connection) and how often (`remaining` requests, or each with `probability`, until `expiresAt`).
 */
export const faultRules = pgTable('fault_rules', {
  ruleId: bigserial('rule_id', { mode: 'number' }).primaryKey(),
  route: text('route').notNull(),
  pspId: text('psp_id'),
  msn: text('msn'),
  pspTransactionId: text('psp_transaction_id'),
  status: integer('status'),
  retryAfterSeconds: integer('retry_after_seconds'),
  delayMs: integer('delay_ms').notNull().default(0),
  dropConnection: boolean('drop_connection').notNull().default(false),
  /** Matching requests still to fault; null: every one (each with `probability`). */
  remaining: integer('remaining'),
  probability: doublePrecision('probability'),
  hits: integer('hits').notNull().default(0),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * An ePayment API payment (`/epayment/v1/payments`), made by a PSP with `paymentMethod.type`
 * CARD_PASSTHROUGH. `state` is one of domain/epayment/payment.ts's states; the running totals are the
 * aggregate. `expiresAt` is the deadline while the payment is CREATED; `callbackLeaseUntil` is set
 * while a card callback is in flight (its answer is due before it).
 */
export const epayments = pgTable(
  'epayments',
  {
    paymentId: uuid('payment_id').primaryKey().default(sql`gen_random_uuid()`),
    pspId: text('psp_id').notNull(),
    msn: text('msn').notNull(),
    reference: text('reference').notNull(),
    currency: text('currency').notNull(),
    amount: integer('amount').notNull(),
    state: text('state').notNull(),
    userFlow: text('user_flow').notNull(),
    paymentMethod: text('payment_method').notNull(),
    /** The pspReference of the CREATED event: the payment's own in GET. */
    pspReference: text('psp_reference').notNull(),
    /** cardPassthrough: the PSP's own reference, echoed in each card callback. */
    cardPspReference: text('card_psp_reference').notNull(),
    cardCallbackUrl: text('card_callback_url').notNull(),
    allowedCardTypes: jsonb('allowed_card_types').$type<string[]>().notNull(),
    preferVisaPartOfVisaDankort: boolean('prefer_visa_part_of_visa_dankort').notNull().default(false),
    publicEncryptionKeyId: text('public_encryption_key_id'),
    customerPhone: text('customer_phone'),
    returnUrl: text('return_url'),
    paymentDescription: text('payment_description'),
    metadata: jsonb('metadata').$type<Record<string, string>>(),
    /** The create request's other fields as sent (receipt, industryData, profile, qrFormat, …). */
    extra: jsonb('extra').$type<Record<string, unknown>>().notNull().default({}),
    /** sha256 of the token in the redirectUrl. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    callbackLeaseUntil: timestamp('callback_lease_until', { withTimezone: true }),
    /** Set when a callback failed so that the user may not try again (a non-retryable FAIL, 500, timeout). */
    closedReason: text('closed_reason'),
    /** What the user was told after the last retryable FAIL (cleared by the next attempt). */
    failureMessage: text('failure_message'),
    /** After SOFT_DECLINE: the PSP's 3-D Secure page, and the attempt its second callback continues. */
    softDeclineUrl: text('soft_decline_url'),
    pendingAttemptId: uuid('pending_attempt_id'),
    /** sha256 of the reference in softDeclineCompletedRedirectUrl (derived again when it is sent). */
    softDeclineRefHash: text('soft_decline_ref_hash').notNull(),
    phone: text('phone'),
    cardId: uuid('card_id'),
    cardBin: text('card_bin'),
    networkTransactionReference: text('network_transaction_reference'),
    authorizedAmount: integer('authorized_amount').notNull().default(0),
    capturedAmount: integer('captured_amount').notNull().default(0),
    refundedAmount: integer('refunded_amount').notNull().default(0),
    cancelledAmount: integer('cancelled_amount').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('epayments_msn_reference_uq').on(t.msn, t.reference),
    uniqueIndex('epayments_token_uq').on(t.tokenHash),
    uniqueIndex('epayments_soft_decline_ref_uq').on(t.softDeclineRefHash),
    // The app's payment requests of one user.
    index('epayments_phone_idx').on(t.phone, t.createdAt).where(sql`phone is not null`),
    index('epayments_due_idx').on(t.expiresAt).where(sql`state = 'CREATED'`),
    // The operator's list, newest first by (created_at, payment_id): all payments, a PSP's, an MSN's.
    index('epayments_created_idx').on(t.createdAt, t.paymentId),
    index('epayments_psp_created_idx').on(t.pspId, t.createdAt, t.paymentId),
    index('epayments_msn_created_idx').on(t.msn, t.createdAt, t.paymentId),
  ],
);

/** The event log of an ePayment payment (GET …/events): one row per event, in order. */
export const epaymentEvents = pgTable(
  'epayment_events',
  {
    eventId: bigserial('event_id', { mode: 'number' }).primaryKey(),
    paymentId: uuid('payment_id').notNull().references(() => epayments.paymentId),
    name: text('name').notNull(),
    amount: integer('amount').notNull(),
    pspReference: text('psp_reference').notNull(),
    idempotencyKey: text('idempotency_key'),
    success: boolean('success').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('epayment_events_payment_idx').on(t.paymentId, t.eventId)],
);

/**
 * Every card callback to a PSP's cardCallbackUrl, written ahead: recorded (IN_FLIGHT) before it is
 * sent, in the statement that claims the payment, and completed with the answer. `outcome` is
 * IN_FLIGHT, RESERVE, FAIL, SOFT_DECLINE, ERROR (HTTP error, timeout, a malformed answer) or
 * ABANDONED (its process died before an answer was recorded).
 */
export const cardCallbacks = pgTable(
  'card_callbacks',
  {
    callbackId: bigserial('callback_id', { mode: 'number' }).primaryKey(),
    paymentId: uuid('payment_id').notNull().references(() => epayments.paymentId),
    authorizationAttemptId: uuid('authorization_attempt_id').notNull(),
    round: integer('round').notNull(),
    url: text('url').notNull(),
    /** The signature headers as sent (x-ms-date, x-ms-content-sha256, host, authorization). */
    requestHeaders: jsonb('request_headers').$type<Record<string, string>>().notNull(),
    /** The body as sent, the token number masked and the cryptogram left out. */
    requestBody: jsonb('request_body').notNull(),
    outcome: text('outcome').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('card_callbacks_payment_idx').on(t.paymentId, t.callbackId),
    index('card_callbacks_in_flight_idx').on(t.leaseUntil).where(sql`outcome = 'IN_FLIGHT'`),
  ],
);

/**
 * Webhooks API registrations: a PSP's URL for some event types, of one sales unit (msn) or, without
 * one, of every sales unit of the PSP. The secret signs the deliveries, so it is kept sealed
 * (security/sealed-secrets.ts), not hashed.
 */
export const webhooks = pgTable(
  'webhooks',
  {
    webhookId: uuid('webhook_id').primaryKey(),
    pspId: text('psp_id').notNull().references(() => psps.pspId, { onDelete: 'cascade' }),
    msn: text('msn'),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    secretSealed: text('secret_sealed').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('webhooks_psp_idx').on(t.pspId, t.msn)],
);

/**
 * The webhook outbox: one row per event and matching registration, written by a trigger on
 * epayment_events in the transaction of the event (migration 0010), so none is lost or made twice. A
 * delivery is PENDING until the receiver answers 2xx (DELIVERED) or 7 days have passed (FAILED); each
 * process claims due ones with a lease, oldest first, never a later event of a payment before an
 * earlier one of the same registration.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    deliveryId: bigserial('delivery_id', { mode: 'number' }).primaryKey(),
    webhookId: uuid('webhook_id').notNull().references(() => webhooks.webhookId, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    paymentId: uuid('payment_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastRequestHeaders: jsonb('last_request_headers'),
    lastStatus: integer('last_status'),
    lastResponse: text('last_response'),
    lastError: text('last_error'),
    lastLatencyMs: integer('last_latency_ms'),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    // Each registration's due deliveries, oldest first: a claim takes a share of each registration's
    // own, so a dead receiver's backlog is never scanned on the way to another's.
    index('webhook_deliveries_due_idx').on(t.webhookId, t.nextAttemptAt, t.deliveryId).where(sql`status = 'PENDING'`),
    index('webhook_deliveries_order_idx').on(t.webhookId, t.paymentId, t.deliveryId).where(sql`status = 'PENDING'`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.deliveryId),
    index('webhook_deliveries_payment_idx').on(t.paymentId, t.deliveryId),
  ],
);

/**
 * A Recurring agreement of a PSP's sales unit with card passthrough (Recurring PSP API): drafted
 * PENDING, ACTIVE once the user accepted it and the PSP reserved the sign-up card callback, STOPPED
 * (by the merchant or the user, for good) or EXPIRED (not accepted within 10 minutes, shared clock).
 * `cardId` is the user's card that pays its charges (changed by the user in the app).
 */
export const agreements = pgTable(
  'agreements',
  {
    agreementId: text('agreement_id').primaryKey(),
    uuid: uuid('uuid').notNull().default(sql`gen_random_uuid()`),
    pspId: text('psp_id').notNull(),
    msn: text('msn').notNull(),
    status: text('status').notNull(),
    pricingType: text('pricing_type').notNull(),
    currency: text('currency').notNull(),
    amount: integer('amount'),
    suggestedMaxAmount: integer('suggested_max_amount'),
    maxAmount: integer('max_amount'),
    intervalUnit: text('interval_unit'),
    intervalCount: integer('interval_count'),
    campaign: jsonb('campaign').$type<Record<string, unknown>>(),
    productName: text('product_name').notNull(),
    productDescription: text('product_description'),
    merchantAgreementUrl: text('merchant_agreement_url').notNull(),
    merchantRedirectUrl: text('merchant_redirect_url').notNull(),
    externalId: text('external_id'),
    countryCode: text('country_code').notNull(),
    /** The phone number the draft proposed (the user may be another). */
    draftPhone: text('draft_phone'),
    /** The draft's other fields as sent (scope, isApp, skipLandingPage). */
    extra: jsonb('extra').$type<Record<string, unknown>>().notNull().default({}),
    cardPspReference: text('card_psp_reference').notNull(),
    cardCallbackUrl: text('card_callback_url').notNull(),
    allowedCardTypes: jsonb('allowed_card_types').$type<string[]>().notNull(),
    preferVisaPartOfVisaDankort: boolean('prefer_visa_part_of_visa_dankort').notNull().default(false),
    publicEncryptionKeyId: text('public_encryption_key_id'),
    /** The initial charge, if the draft had one (recurring_charges). */
    initialChargeId: text('initial_charge_id'),
    /** The user who accepted, and the card that pays (and the type it pays as). */
    phone: text('phone'),
    cardId: uuid('card_id'),
    cardType: text('card_type'),
    /** Set when a sign-up callback failed so that the user may not try again. */
    closedReason: text('closed_reason'),
    failureMessage: text('failure_message'),
    callbackLeaseUntil: timestamp('callback_lease_until', { withTimezone: true }),
    stoppedBy: text('stopped_by'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('agreements_uuid_uq').on(t.uuid),
    // The API's list of a sales unit's agreements (by status), oldest first.
    index('agreements_msn_status_idx').on(t.msn, t.status, t.createdAt, t.agreementId),
    index('agreements_msn_created_idx').on(t.msn, t.createdAt, t.agreementId),
    index('agreements_expiry_idx').on(t.expiresAt).where(sql`status = 'PENDING'`),
    // The operator's list, newest first.
    index('agreements_created_idx').on(t.createdAt, t.agreementId),
    index('agreements_phone_idx').on(t.phone, t.createdAt).where(sql`phone is not null`),
  ],
);

/**
 * A charge of an agreement: the INITIAL one of the sign-up, or one the PSP created (v4 batch):
 * RECURRING (due on a date, card data fetched with payment-info) or UNSCHEDULED (card data at once).
 * `chargeId` is unique per sales unit (the PSP's own for v4 charges).
 */
export const recurringCharges = pgTable(
  'recurring_charges',
  {
    msn: text('msn').notNull(),
    chargeId: text('charge_id').notNull(),
    agreementId: text('agreement_id').notNull().references(() => agreements.agreementId),
    pspId: text('psp_id').notNull(),
    type: text('type').notNull(),
    transactionType: text('transaction_type').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    description: text('description').notNull(),
    /** RECURRING: the due date (YYYY-MM-DD, Norwegian time) and the days after it a retry may come. */
    due: text('due'),
    retryDays: integer('retry_days').notNull().default(0),
    /** The end of the last day a result may come (due + retryDays, Norwegian time). */
    retryUntil: timestamp('retry_until', { withTimezone: true }),
    status: text('status').notNull(),
    externalId: text('external_id'),
    /** sha256 of the v4 item as first sent: the same chargeId with another body is refused. */
    requestHash: text('request_hash'),
    paymentInfoCount: integer('payment_info_count').notNull().default(0),
    paymentInfoAt: timestamp('payment_info_at', { withTimezone: true }),
    /** The last result the PSP reported, as sent. */
    result: jsonb('result').$type<Record<string, unknown>>(),
    failureReason: text('failure_reason'),
    failureDescription: text('failure_description'),
    capturedAmount: integer('captured_amount').notNull().default(0),
    refundedAmount: integer('refunded_amount').notNull().default(0),
    cancelledAmount: integer('cancelled_amount').notNull().default(0),
    transactionId: text('transaction_id').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.msn, t.chargeId] }),
    index('recurring_charges_agreement_idx').on(t.agreementId, t.createdAt),
    // The wallet's deadline of unreported RECURRING charges (open-questions G10).
    index('recurring_charges_retry_idx').on(t.retryUntil).where(sql`status in ('DUE', 'PROCESSING')`),
    index('recurring_charges_created_idx').on(t.createdAt),
  ],
);

/** A charge's history (ChargeResponseV3.history): CREATE, RESERVE, CAPTURE, REFUND, CANCEL, FAIL. */
export const recurringChargeEvents = pgTable(
  'recurring_charge_events',
  {
    eventId: bigserial('event_id', { mode: 'number' }).primaryKey(),
    msn: text('msn').notNull(),
    chargeId: text('charge_id').notNull(),
    event: text('event').notNull(),
    amount: integer('amount').notNull(),
    idempotencyKey: text('idempotency_key'),
    success: boolean('success').notNull(),
    /** What else happened: payment-info fetched, result reported (the console's timeline). */
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [index('recurring_charge_events_charge_idx').on(t.msn, t.chargeId, t.eventId)],
);

/**
 * Every card callback of an agreement (the sign-up CIT, or a card change), written ahead as
 * card_callbacks are for ePayment payments.
 */
export const agreementCallbacks = pgTable(
  'agreement_callbacks',
  {
    callbackId: bigserial('callback_id', { mode: 'number' }).primaryKey(),
    agreementId: text('agreement_id').notNull().references(() => agreements.agreementId),
    purpose: text('purpose').notNull(),
    authorizationAttemptId: uuid('authorization_attempt_id').notNull(),
    round: integer('round').notNull(),
    url: text('url').notNull(),
    requestHeaders: jsonb('request_headers').$type<Record<string, string>>().notNull(),
    requestBody: jsonb('request_body').notNull(),
    outcome: text('outcome').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    phone: text('phone'),
    cardId: uuid('card_id'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('agreement_callbacks_agreement_idx').on(t.agreementId, t.callbackId)],
);
