import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key is `maas_<id>_<secret>`: the id finds the stored key in one primary-key read,
 * the secret is 32 random bytes of which only the SHA-256 is stored. A slow password hash
 * buys nothing for 256 bits of randomness and would cost every request.
 */
const KEY = /^maas_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewKeySecret {
  id: string;
  /** The whole key, shown once. */
  secret: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newKeySecret(): NewKeySecret {
  const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12).padEnd(12, '0');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret: `maas_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** Splits a presented key into its id and secret; null when it is not shaped like a key. */
export function parseKey(presented: string): { id: string; secret: string } | null {
  const m = KEY.exec(presented);
  return m ? { id: m[1] as string, secret: m[2] as string } : null;
}

/** Compares in constant time, so response timing tells nothing about the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
