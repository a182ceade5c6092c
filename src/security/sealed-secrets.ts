// Secrets this server must be able to use again, not only check: a PSP's client secret keys the HMAC
// of its ePayment card callbacks. They are stored sealed with AES-256-GCM under a 32-byte key kept in
// the database's settings (every process on one database uses the same one), so that a copy of one
// table, a log line or a backup of the payments alone does not reveal them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** `v1.<iv>.<ciphertext>.<tag>`, each part base64url. */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The plaintext, or undefined when `sealed` was not sealed with this key (or was altered). */
export function unseal(key: Buffer, sealed: string): string | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1], 'base64url'));
    decipher.setAuthTag(Buffer.from(parts[3], 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[2], 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The settings key under which the sealing key is stored. */
export const SEAL_KEY_SETTING = 'secrets.seal_key';
