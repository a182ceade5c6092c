// Merchant use cases: the PSP Signup API and the operator's flags, plus the lookup that
// authenticates the Merchant-Serial-Number header on every PSP API request.
import { systemClock, type Clock } from '../clock.ts';
import { createHash } from 'node:crypto';
import type { Database, Tx } from '../store/db.ts';
import {
  findMerchant, findMerchantOfPsp, insertMerchant, listAllMerchants, listMerchantsOfPsp, updateMerchant, type MerchantRow,
} from '../store/merchants.ts';
import { idempotent } from './idempotency.ts';
import { ApiError, errors, type FieldProblem } from '../domain/errors.ts';
import {
  applyPatchStatus, candidateMsn, checkCountryChange, checkLogo, checkOrganizationNumber, knownPatch, PATCHABLE, type MerchantStatus,
} from '../domain/merchant.ts';
import type { MerchantAddress } from '../store/schema.ts';

export interface CreateMerchantInput {
  organizationNumber: string;
  name: string;
  mccCode: string;
  logo: string;
  email?: string;
  website?: string;
  address: MerchantAddress;
  companyName: string;
  companyEmail: string;
}

/** The Signup API's Merchant representation. */
export function merchantView(m: MerchantRow) {
  return {
    organizationNumber: m.organizationNumber,
    companyName: m.companyName,
    companyEmail: m.companyEmail,
    merchantSerialNumber: m.msn,
    name: m.name,
    status: m.status,
    email: m.email ?? null,
    website: m.website ?? null,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    address: {
      addressLine1: m.address.addressLine1,
      addressLine2: m.address.addressLine2 ?? null,
      city: m.address.city,
      postCode: m.address.postCode,
      country: m.address.country,
    },
  };
}

/** The operator's view adds what only the operator sees. */
export function merchantAdminView(m: MerchantRow) {
  return { ...merchantView(m), pspId: m.pspId, mccCode: m.mccCode, skipLandingPage: m.skipLandingPage, active: m.status === 'ACTIVE' };
}

function invalid(details: FieldProblem[]): ApiError {
  return new ApiError(400, 'validation_error', 'The request body contains one or more validation errors.', {
    title: "Your request parameters didn't validate.", details,
  });
}

function hashBody(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** JSON with object keys sorted, so the same body in another key order hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object).sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

interface CachedMerchant {
  pspId: string;
  status: string;
  at: number;
}

export class Merchants {
  private readonly database: Database;
  private readonly cache = new Map<string, CachedMerchant>();
  private readonly loading = new Map<string, Promise<CachedMerchant | undefined>>();
  /** Counts local changes: a read begun before one must not fill the cache. */
  private generation = 0;
  /** How long a merchant's owner and status are trusted from memory; local changes invalidate at once. */
  private readonly cacheMs: number;

  private readonly clock: Clock;
  constructor(database: Database, cacheMs = 1000, clock: Clock = systemClock) {
    this.database = database;
    this.cacheMs = cacheMs;
    this.clock = clock;
  }

  /** Checks the Merchant-Serial-Number header for a PSP: present, theirs, active. */
  async authorize(pspId: string, msn: string | undefined): Promise<string> {
    if (msn === undefined || msn.trim() === '') throw errors.missingMsn();
    const key = msn.trim();
    let entry = this.cache.get(key);
    if (!entry || Date.now() - entry.at > this.cacheMs) {
      entry = /^\d{5,6}$/.test(key) ? await this.load(key) : undefined;
      if (!entry) throw errors.invalidMsnForPsp(key);
    }
    if (entry.pspId !== pspId) throw errors.invalidMsnForPsp(key);
    if (entry.status !== 'ACTIVE') throw errors.merchantNotActive();
    return key;
  }

  /**
   * Reads a merchant into the cache. Requests that miss at once (every request of a busy merchant
   * when its entry expires) share one read. A read begun before a local change is not cached.
   */
  private load(msn: string): Promise<CachedMerchant | undefined> {
    const inFlight = this.loading.get(msn);
    if (inFlight) return inFlight;
    const read = this.read(msn, this.generation).finally(() => {
      if (this.loading.get(msn) === read) this.loading.delete(msn);
    });
    this.loading.set(msn, read);
    return read;
  }

  private async read(msn: string, generation: number): Promise<CachedMerchant | undefined> {
    const row = await findMerchant(this.database.db, msn);
    if (!row) return undefined;
    const entry = { pspId: row.pspId, status: row.status, at: Date.now() };
    if (generation === this.generation) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(msn, entry);
    }
    return entry;
  }

  /** After a local change: the next request reads the merchant again. */
  private forget(msn: string): void {
    this.generation += 1;
    this.cache.delete(msn);
    this.loading.delete(msn);
  }

  async list(pspId: string) {
    return (await listMerchantsOfPsp(this.database.db, pspId)).map(merchantView);
  }

  async get(pspId: string, msn: string) {
    const row = await findMerchantOfPsp(this.database.db, pspId, msn);
    if (!row) throw notFound(msn);
    return merchantView(row);
  }

  /** POST /merchants: idempotent on Idempotency-Key. */
  async create(pspId: string, idempotencyKey: string, input: CreateMerchantInput): Promise<{ merchantSerialNumber: string }> {
    const problems = [
      checkOrganizationNumber(input.organizationNumber, input.address.country),
      input.logo === '' ? undefined : checkLogo(input.logo),
    ].filter((p) => p !== undefined);
    if (problems.length > 0) throw invalid(problems);
    const requestHash = hashBody(input);
    return this.database.db.transaction((tx) =>
      idempotent(tx, { pspId, scope: 'signup.create', key: idempotencyKey, requestHash, now: this.clock.now() }, async () => {
        const row = await insertWithFreshMsn(tx, pspId, input);
        return { merchantSerialNumber: row.msn };
      }));
  }

  /** PATCH /merchants/{msn}. */
  async patch(pspId: string, msn: string, body: Record<string, unknown>): Promise<void> {
    const patch = knownPatch(body);
    if (Object.keys(patch).length === 0) {
      throw invalid([{ name: 'body', reason: `At least one of the properties is required: ${PATCHABLE.join(', ')}` }]);
    }
    if (patch.logo !== undefined) {
      const logoProblem = checkLogo(patch.logo);
      if (logoProblem) throw invalid([logoProblem]);
    }
    await this.database.db.transaction(async (tx) => {
      const row = await findMerchantOfPsp(tx, pspId, msn);
      if (!row) throw notFound(msn);
      const decision = applyPatchStatus(row.status as MerchantStatus, patch);
      if (!decision.ok) throw new ApiError(400, 'merchant_deactivated', decision.reason, { title: 'Merchant is deactivated' });
      const country = (patch.address as MerchantAddress | undefined)?.country;
      const moveProblem = country === undefined ? undefined : checkCountryChange(row.organizationNumber, row.address.country, country);
      if (moveProblem) throw invalid([moveProblem]);
      const changes: Parameters<typeof updateMerchant>[2] = { status: decision.status };
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.mccCode !== undefined) changes.mccCode = patch.mccCode;
      if (patch.logo !== undefined) changes.logo = patch.logo;
      if (patch.email !== undefined) changes.email = patch.email;
      if (patch.website !== undefined) changes.website = patch.website;
      if (patch.address !== undefined) changes.address = patch.address as MerchantAddress;
      if (patch.companyName !== undefined) changes.companyName = patch.companyName;
      if (patch.companyEmail !== undefined) changes.companyEmail = patch.companyEmail;
      await updateMerchant(tx, msn, changes, pspId);
    });
    this.forget(msn);
  }

  /** Operator: set the `active` and `skipLandingPage` flags of any merchant. */
  async setFlags(msn: string, flags: { active?: boolean; skipLandingPage?: boolean }) {
    const changes: Parameters<typeof updateMerchant>[2] = {};
    if (flags.active !== undefined) changes.status = flags.active ? 'ACTIVE' : 'DEACTIVATED';
    if (flags.skipLandingPage !== undefined) changes.skipLandingPage = flags.skipLandingPage;
    const row = await updateMerchant(this.database.db, msn, changes);
    this.forget(msn);
    if (!row) throw notFound(msn);
    return merchantAdminView(row);
  }

  async listAll() {
    return (await listAllMerchants(this.database.db)).map(merchantAdminView);
  }
}

function notFound(msn: string): ApiError {
  return new ApiError(404, 'merchant_not_found', `No merchant with merchantSerialNumber ${msn} exists for this PSP.`, { title: 'Item does not exist' });
}

async function insertWithFreshMsn(tx: Tx, pspId: string, input: CreateMerchantInput): Promise<MerchantRow> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const row = await insertMerchant(tx, {
      msn: candidateMsn(),
      pspId,
      name: input.name,
      companyName: input.companyName,
      companyEmail: input.companyEmail,
      organizationNumber: input.organizationNumber,
      mccCode: input.mccCode,
      email: input.email ?? null,
      website: input.website ?? null,
      logo: input.logo === '' ? null : input.logo,
      address: input.address,
      status: 'ACTIVE',
    });
    if (row) return row;
  }
  throw new ApiError(503, 'msn_exhausted', 'Could not allocate a free merchant serial number; try again.');
}
