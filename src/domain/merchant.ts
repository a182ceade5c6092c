// Merchant rules that the JSON schema cannot express: the logo, the organization number's format per
// country, MSN generation, status changes.
import type { FieldProblem } from './errors.ts';

export type MerchantStatus = 'ACTIVE' | 'DEACTIVATED' | 'PENDING';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The logo must be base64 of a PNG whose sides are between 100 and 1000 pixels.
 * Returns the problem, or undefined when the logo is acceptable.
 */
export function checkLogo(logo: string, field = 'logo'): FieldProblem | undefined {
  const compact = logo.replace(/\s+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    return { name: field, reason: 'Must be a base64 encoded PNG image' };
  }
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length < 24 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    return { name: field, reason: 'Must be a base64 encoded PNG image' };
  }
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width < 100 || height < 100) return { name: field, reason: `The logo is ${width}x${height} pixels; the minimum is 100x100` };
  if (width > 1000 || height > 1000) return { name: field, reason: `The logo is ${width}x${height} pixels; the longest side can be at most 1000` };
  return undefined;
}

/**
 * Whether an organization number has the format of the merchant's country. The Signup spec gives a
 * format for Norway only: 9 digits without spaces (the country code in any case: "no" is Norway too).
 * For other countries it names no format, so any 1-50 characters the schema allows are accepted.
 * Whether the number is registered (the Norwegian business registry) is not checked: that needs a
 * registry this server does not consult.
 */
export function organizationNumberFitsCountry(organizationNumber: string, country: string): boolean {
  return country.toUpperCase() !== 'NO' || /^[0-9]{9}$/.test(organizationNumber);
}

/** The organization number of a new merchant, checked against its address's country. */
export function checkOrganizationNumber(organizationNumber: string, country: string): FieldProblem | undefined {
  if (organizationNumberFitsCountry(organizationNumber, country)) return undefined;
  return { name: 'organizationNumber', reason: 'For a Norwegian merchant (address.country NO) it must be 9 digits without spaces' };
}

/**
 * A patch's new address against the organization number the merchant has (which a patch cannot change):
 * moving a merchant to Norway needs a Norwegian organization number. An address that stays in its
 * country is not checked, so a merchant stored before this rule can still change its street.
 */
export function checkCountryChange(organizationNumber: string, fromCountry: string, toCountry: string): FieldProblem | undefined {
  if (fromCountry.toUpperCase() === toCountry.toUpperCase() || organizationNumberFitsCountry(organizationNumber, toCountry)) return undefined;
  return {
    name: 'address.country',
    reason: `The merchant's organizationNumber is not 9 digits without spaces, so the merchant cannot move to ${toCountry}`,
  };
}

/** A candidate MSN: six digits, never starting with 0. The database decides uniqueness. */
export function candidateMsn(random: () => number = Math.random): string {
  return String(100000 + Math.floor(random() * 900000));
}

export interface MerchantPatch {
  deactivate?: boolean;
  name?: string;
  mccCode?: string;
  logo?: string;
  email?: string;
  website?: string;
  address?: unknown;
  companyName?: string;
  companyEmail?: string;
}

/** The properties a PATCH may change; anything else in the body is ignored. */
export const PATCHABLE = ['deactivate', 'name', 'mccCode', 'logo', 'email', 'website', 'address', 'companyName', 'companyEmail'] as const;

/** The known properties of a patch body, without the ones the API does not name. */
export function knownPatch(body: Record<string, unknown>): MerchantPatch {
  const patch: Record<string, unknown> = {};
  for (const key of PATCHABLE) if (body[key] !== undefined) patch[key] = body[key];
  return patch as MerchantPatch;
}

/** Whether a patch may be applied to a merchant in the given status, and the status after it. */
export function applyPatchStatus(current: MerchantStatus, patch: MerchantPatch):
  { ok: true; status: MerchantStatus } | { ok: false; reason: string } {
  if (current === 'DEACTIVATED') {
    return { ok: false, reason: 'The merchant is deactivated; a deactivated merchant cannot be activated or updated through the API.' };
  }
  if (patch.deactivate === true) return { ok: true, status: 'DEACTIVATED' };
  return { ok: true, status: current };
}
