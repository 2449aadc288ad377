import { describe, expect, it } from 'vitest';
import {
  LoginGuard,
  LimitRefused,
  lockoutDelaySeconds,
  type LoginLimitSettings,
} from './login-guard.ts';
import { memoryLimiterStore } from './store.ts';

const settings: LoginLimitSettings = {
  freeAttemptsPerAddress: 3,
  firstDelaySeconds: 30,
  maxDelaySeconds: 900,
  maxFailuresPerAccount: 10,
  maxAttemptsPerIp: 50,
  windowSeconds: 900,
  maxConcurrentVerifications: 2,
  maxWaitingVerifications: 100,
};

/** A password check that counts how often it ran; `right` is the only correct password. */
function checker(right = 'right') {
  const checked: string[] = [];
  return {
    checked,
    verify: (password: string) => async () => {
      checked.push(password);
      await new Promise((resolve) => setImmediate(resolve));
      return password === right ? { ok: true } : null;
    },
  };
}

async function outcome(p: Promise<unknown>): Promise<'ok' | 'wrong' | 'refused'> {
  try {
    return (await p) === null ? 'wrong' : 'ok';
  } catch (err) {
    if (err instanceof LimitRefused) return 'refused';
    throw err;
  }
}

describe('login guard', () => {
  it('checks at most the free attempts of a pair in a parallel burst; the rest are refused unchecked', async () => {
    const guard = new LoginGuard(memoryLimiterStore(), settings);
    const c = checker();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        outcome(guard.attempt('ada@parley.test', '10.0.0.1', c.verify('wrong'))),
      ),
    );
    expect(c.checked).toHaveLength(3);
    expect(results.filter((r) => r === 'wrong')).toHaveLength(3);
    expect(results.filter((r) => r === 'refused')).toHaveLength(37);
    // The locked pair waits the first delay, and says so.
    const next = await guard
      .attempt('ada@parley.test', '10.0.0.1', c.verify('right'))
      .catch((e) => e);
    expect(next).toBeInstanceOf(LimitRefused);
    expect((next as LimitRefused).retryAfterSeconds).toBeGreaterThan(20);
    expect((next as LimitRefused).retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('does not lock the owner out of their own address when another address is locked', async () => {
    const guard = new LoginGuard(memoryLimiterStore(), settings);
    const c = checker();
    for (let i = 0; i < 5; i++)
      await outcome(guard.attempt('Ada@Parley.test', '10.0.0.66', c.verify('x')));
    expect(await outcome(guard.attempt('ada@parley.test', '10.0.0.66', c.verify('right')))).toBe(
      'refused',
    );
    expect(await outcome(guard.attempt('ada@parley.test', '10.0.0.7', c.verify('right')))).toBe(
      'ok',
    );
  });

  it('stops distributed guessing at the account ceiling, but not addresses that logged in before', async () => {
    const guard = new LoginGuard(memoryLimiterStore(), settings);
    const c = checker();
    expect(await outcome(guard.attempt('ada@parley.test', '10.0.0.7', c.verify('right')))).toBe(
      'ok',
    );
    const results = [];
    for (let i = 0; i < 15; i++) {
      results.push(
        await outcome(guard.attempt('ada@parley.test', `10.1.0.${i}`, c.verify('guess'))),
      );
    }
    expect(results.filter((r) => r === 'wrong')).toHaveLength(10);
    expect(results.slice(10)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
    expect(await outcome(guard.attempt('ada@parley.test', '10.2.0.1', c.verify('right')))).toBe(
      'refused',
    );
    // The owner's address logged in before: only its own pair limit applies.
    expect(await outcome(guard.attempt('ada@parley.test', '10.0.0.7', c.verify('right')))).toBe(
      'ok',
    );
  });

  it('refuses at once when the waiting room is full, without checking', async () => {
    const guard = new LoginGuard(memoryLimiterStore(), {
      ...settings,
      maxConcurrentVerifications: 1,
      maxWaitingVerifications: 2,
    });
    const c = checker();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        outcome(guard.attempt(`user${i}@parley.test`, `10.3.0.${i}`, c.verify('wrong'))),
      ),
    );
    expect(results).toEqual(['wrong', 'wrong', 'wrong', 'refused', 'refused', 'refused']);
    expect(c.checked).toHaveLength(3);
  });

  it('does not count an attempt whose check failed (chat unavailable)', async () => {
    const guard = new LoginGuard(memoryLimiterStore(), { ...settings, freeAttemptsPerAddress: 1 });
    const down = () => Promise.reject(new Error('chat unavailable'));
    for (let i = 0; i < 3; i++) {
      await expect(guard.attempt('ada@parley.test', '10.0.0.9', down)).rejects.toThrow(
        'chat unavailable',
      );
    }
    expect(
      await outcome(guard.attempt('ada@parley.test', '10.0.0.9', checker().verify('right'))),
    ).toBe('ok');
  });

  it('doubles the delay after each lockout, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 40].map((n) => lockoutDelaySeconds(n, 30, 900))).toEqual([
      30, 60, 120, 240, 480, 900, 900, 900,
    ]);
  });
});
