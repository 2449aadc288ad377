import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import pLimit from 'p-limit';
import { AppError } from '@parley/contracts/errors';

/** scrypt parameters (OWASP's minimum for scrypt: N=2^17 is preferred, 2^15 keeps logins fast on small hosts). */
const N = 32768;
const r = 8;
const p = 1;
const KEY_LENGTH = 64;
/** scrypt needs 128 * N * r bytes; give it headroom above Node's 32 MiB default. */
const MAX_MEM = 64 * 1024 * 1024;

/**
 * scrypt runs on libuv's thread pool (4 threads), which file and DNS work share. A burst of logins
 * used to fill it, so every later login waited behind the whole burst until the gateway's request
 * timed out (503), and the abandoned hashes still ran. At most MAX_CONCURRENT_HASHES run at once
 * (32 MiB each); up to MAX_WAITING_HASHES wait; beyond that a login is refused at once with
 * `rate_limited`, which the gateway passes on as 429.
 */
export const MAX_CONCURRENT_HASHES = 2;
export const MAX_WAITING_HASHES = 16;
const hashSlots = pLimit(MAX_CONCURRENT_HASHES);

function derive(
  password: string,
  salt: Buffer,
  opts: ScryptOptions,
  keyLength: number,
): Promise<Buffer> {
  if (hashSlots.pendingCount >= MAX_WAITING_HASHES) {
    return Promise.reject(
      new AppError('rate_limited', 'Too many logins in progress: try again in a moment'),
    );
  }
  return hashSlots(() => scryptKey(password, salt, opts, keyLength));
}

function scryptKey(
  password: string,
  salt: Buffer,
  opts: ScryptOptions,
  keyLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, opts, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url parts), so parameters can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r, p, maxmem: MAX_MEM }, KEY_LENGTH);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, nStr, rStr, pStr, saltStr, hashStr] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expected = Buffer.from(hashStr, 'base64url');
  const key = await derive(
    password,
    Buffer.from(saltStr, 'base64url'),
    { N: Number(nStr), r: Number(rStr), p: Number(pStr), maxmem: MAX_MEM },
    expected.length,
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password: compared against when the email is unknown, so timing does not reveal accounts. */
let dummyHash: Promise<string> | undefined;
export function unknownAccountHash(): Promise<string> {
  return (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));
}
