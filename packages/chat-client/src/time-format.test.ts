import { describe, expect, test } from 'vitest';
import { formatDuration, formatMessageTime } from './time-format.ts';

describe('formatMessageTime', () => {
  const at = '2026-01-05T01:15:00Z';

  test('each locale gets its own short time, the same in both apps', () => {
    expect(formatMessageTime(at, 'en', 'UTC')).toBe('1:15 AM');
    expect(formatMessageTime(at, 'en-US', 'UTC')).toBe('1:15 AM');
    expect(formatMessageTime(at, 'zh-CN', 'UTC')).toBe('01:15');
    expect(formatMessageTime(at, 'ru', 'UTC')).toBe('01:15');
  });

  test('takes a Date or epoch milliseconds as well', () => {
    expect(formatMessageTime(new Date(at), 'en', 'UTC')).toBe('1:15 AM');
    expect(formatMessageTime(Date.parse(at), 'ru', 'UTC')).toBe('01:15');
  });
});

describe('formatDuration', () => {
  test('minutes and seconds, hours only when needed', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(7.4)).toBe('0:07');
    expect(formatDuration(750)).toBe('12:30');
    expect(formatDuration(3723)).toBe('1:02:03');
  });

  test('an unknown length reads 0:00, never NaN', () => {
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('0:00');
    expect(formatDuration(Number.NaN)).toBe('0:00');
  });
});
