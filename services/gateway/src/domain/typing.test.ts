import { describe, expect, it } from 'vitest';
import { TypingThrottle } from './typing.ts';

describe('TypingThrottle', () => {
  it('lets one signal per sender and chat through per window', () => {
    const throttle = new TypingThrottle(2000);
    expect(throttle.allow('a', 'chat1', 0)).toBe(true);
    expect(throttle.allow('a', 'chat1', 1999)).toBe(false);
    expect(throttle.allow('b', 'chat1', 1999)).toBe(true);
    expect(throttle.allow('a', 'chat2', 1999)).toBe(true);
    expect(throttle.allow('a', 'chat1', 2000)).toBe(true);
  });
});
