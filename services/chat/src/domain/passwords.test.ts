import { describe, expect, it } from 'vitest';
import type { AppError } from '@parley/contracts/errors';
import {
  hashPassword,
  MAX_CONCURRENT_HASHES,
  MAX_WAITING_HASHES,
  verifyPassword,
} from './passwords.ts';

describe('passwords (scrypt)', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain text')).toBe(false);
    expect(await verifyPassword('correct horse', a.replace(/\$[\w-]+$/, '$AAAA'))).toBe(false);
  });
});

describe('password hashing under a burst', () => {
  it('refuses verifications beyond the waiting room with rate_limited instead of queueing them all', async () => {
    const stored = await hashPassword('correct horse');
    const burst = MAX_CONCURRENT_HASHES + MAX_WAITING_HASHES + 5;
    const results = await Promise.allSettled(
      Array.from({ length: burst }, () => verifyPassword('wrong horse', stored)),
    );
    const refused = results.filter(
      (r) => r.status === 'rejected' && (r.reason as AppError).code === 'rate_limited',
    );
    expect(refused).toHaveLength(5);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === false)).toHaveLength(
      burst - 5,
    );
    // Once the burst has drained, the right password is verified again.
    expect(await verifyPassword('correct horse', stored)).toBe(true);
  });
});
