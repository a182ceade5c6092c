// The PSPs' public keys for encryptedPan: registered, listed and removed through the operator API
// (and its CLI); a payment names one in cardPassthrough.publicEncryptionKeyId.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../domain/errors.ts';
import { parsePublicKey } from '../domain/epayment/encrypted-pan.ts';
import type { Db } from '../store/db.ts';
import { deleteEncryptionKey, insertEncryptionKey, listEncryptionKeys, type EncryptionKeyRow } from '../store/encryption-keys.ts';
import { findPspById } from '../store/psps.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface EncryptionKeyView {
  keyId: string;
  pspId: string;
  algorithm: 'RSA-OAEP-256';
  bits: number;
  fingerprint: string;
  publicKey: string;
  createdAt: string;
}

function view(row: EncryptionKeyRow): EncryptionKeyView {
  return {
    keyId: row.keyId, pspId: row.pspId, algorithm: 'RSA-OAEP-256', bits: row.bits, fingerprint: row.fingerprint,
    publicKey: row.publicKeyPem, createdAt: row.createdAt.toISOString(),
  };
}

async function pspMustExist(db: Db, pspId: string): Promise<void> {
  if (!(await findPspById(db, pspId))) throw new ApiError(404, 'psp_not_found', `No PSP with id ${pspId}.`);
}

/**
 * Registers a public key. `keyId` may be given (a PSP's tests then use the same publicEncryptionKeyId
 * on every fresh server); registering the same key under the same id again answers the stored one.
 */
export async function registerEncryptionKey(db: Db, pspId: string, publicKey: string, keyId?: string): Promise<{ created: boolean; key: EncryptionKeyView }> {
  if (keyId !== undefined && !GUID.test(keyId)) {
    throw new ApiError(400, 'invalid_key_id', 'The keyId must be a GUID, such as 3f1c2e90-7a4b-4c9d-8f21-6b3e2d7a91c4.', { details: [{ name: 'keyId', reason: 'must be a GUID' }] });
  }
  const parsed = parsePublicKey(publicKey);
  if ('error' in parsed) throw new ApiError(400, 'invalid_public_key', parsed.error, { details: [{ name: 'publicKey', reason: parsed.error }] });
  await pspMustExist(db, pspId);
  const id = (keyId ?? randomUUID()).toLowerCase();
  const { inserted, row } = await insertEncryptionKey(db, { keyId: id, pspId, publicKeyPem: parsed.pem, bits: parsed.bits, fingerprint: parsed.fingerprint });
  if (!inserted && (row.pspId !== pspId || row.fingerprint !== parsed.fingerprint)) {
    throw new ApiError(409, 'key_id_taken', `The keyId ${id} already names another key.`);
  }
  return { created: inserted, key: view(row) };
}

export async function encryptionKeysOf(db: Db, pspId: string): Promise<EncryptionKeyView[]> {
  await pspMustExist(db, pspId);
  return (await listEncryptionKeys(db, pspId)).map(view);
}

export async function removeEncryptionKey(db: Db, pspId: string, keyId: string): Promise<void> {
  if (!GUID.test(keyId) || !(await deleteEncryptionKey(db, pspId, keyId.toLowerCase()))) {
    throw new ApiError(404, 'key_not_found', `PSP ${pspId} has no encryption key ${keyId}.`);
  }
}
