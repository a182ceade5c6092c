// The error catalogue: one table of what can go wrong, with the HTTP status and the API's own
// code and message. The HTTP layer renders an ApiError in the shape of the route family
// (ErrorDetails array for the PSP API, RFC 7807 for the Signup and operator APIs).

export interface FieldProblem {
  name: string;
  reason: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly details: FieldProblem[];

  constructor(status: number, code: string, message: string, opts: { title?: string; details?: FieldProblem[] } = {}) {
    // An API error is an expected answer, not a bug: skip the stack trace, which is costly to
    // capture for type-stripped modules and never shown to anyone.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.title = opts.title ?? defaultTitle(status);
    this.details = opts.details ?? [];
  }
}

function defaultTitle(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'Not Found';
    case 405: return 'Method Not Allowed';
    case 409: return 'Conflict';
    case 413: return 'Payload Too Large';
    case 415: return 'Unsupported Media Type';
    case 429: return 'Too Many Requests';
    case 503: return 'Service Unavailable';
    default: return status >= 500 ? 'Internal Server Error' : 'Error';
  }
}

/** Messages the real API gateway uses for credential problems. */
export const AUTH_MESSAGES = {
  missingSubscriptionKey: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
  invalidSubscriptionKey: 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
  invalidClient: 'Invalid client credentials: client_id and client_secret do not match a client of this subscription.',
  missingClient: 'Missing client credentials: send the client_id and client_secret headers.',
  missingToken: 'Missing access token: send "Authorization: Bearer <access token>" from POST /accessToken/get.',
  invalidToken: 'Invalid access token: the token is malformed, expired, or was not issued by this server.',
  tokenKeyMismatch: 'The access token was issued for another subscription than the Ocp-Apim-Subscription-Key sent.',
} as const;

export const errors = {
  missingSubscriptionKey: () => new ApiError(401, 'missing_subscription_key', AUTH_MESSAGES.missingSubscriptionKey),
  invalidSubscriptionKey: () => new ApiError(401, 'invalid_subscription_key', AUTH_MESSAGES.invalidSubscriptionKey),
  missingClient: () => new ApiError(401, 'missing_client_credentials', AUTH_MESSAGES.missingClient),
  invalidClient: () => new ApiError(401, 'invalid_client', AUTH_MESSAGES.invalidClient),
  missingToken: () => new ApiError(401, 'missing_access_token', AUTH_MESSAGES.missingToken),
  invalidToken: () => new ApiError(401, 'invalid_access_token', AUTH_MESSAGES.invalidToken),
  tokenKeyMismatch: () => new ApiError(401, 'subscription_mismatch', AUTH_MESSAGES.tokenKeyMismatch),
  missingPspId: () => new ApiError(401, 'missing_psp_id', 'Missing Psp-Id header: send the PSP id you were given with your credentials.'),
  pspIdMismatch: (pspId: string) =>
    new ApiError(403, 'invalid_psp_id', `Invalid Psp-Id: ${pspId}. The Psp-Id does not belong to the credentials used.`),
  missingMsn: () => new ApiError(400, '51', 'Invalid request: the Merchant-Serial-Number header is required.'),
  invalidMsnForPsp: (msn: string) => new ApiError(403, '403', `Invalid MSN: ${msn}. This MSN is not valid for the provided PSP id.`),
  merchantNotActive: () => new ApiError(400, '21', 'Merchant not available or active'),
  headerTooLong: (name: string) =>
    new ApiError(400, '51', `Invalid request: the ${name} header must be at most 30 characters.`, { details: [{ name, reason: 'At most 30 characters' }] }),
  testOnly: () => new ApiError(403, '403', 'This endpoint is only available in the test environment (VIPPS_ENV=test).'),
  notFound: (what: string) => new ApiError(404, '404', what),
  idempotencyConflict: () =>
    new ApiError(409, 'idempotency_conflict', 'The Idempotency-Key was already used with a different request body.', { title: 'Idempotent conflict' }),
  adminDisabled: () => new ApiError(401, 'admin_disabled', 'The operator API is disabled: set ADMIN_TOKEN to enable it.'),
  adminUnauthorized: () => new ApiError(401, 'admin_unauthorized', 'Send "Authorization: Bearer <ADMIN_TOKEN>" to use the operator API.'),
  tooManyFailedAttempts: (retryAfterSeconds: number) =>
    new ApiError(429, 'too_many_failed_attempts', `Too many failed authentication attempts; retry in ${retryAfterSeconds} s.`),
} as const;
