import { describe, expect, test } from 'vitest';
import { dayKey, dayLabel, relativeTime } from './time.ts';
import { describeUserAgent } from './useragent.ts';

describe('relative times on chat cards', () => {
  const now = Date.parse('2026-01-29T10:30:00Z');
  test.each([
    ['2026-01-29T10:29:30Z', 'just now'],
    ['2026-01-29T10:29:00Z', '1 minute ago'],
    ['2026-01-29T10:28:00Z', '2 minutes ago'],
    ['2026-01-29T08:30:00Z', '2 hours ago'],
    ['2026-01-27T10:30:00Z', '2 days ago'],
  ])('%s reads "%s"', (iso, expected) => {
    expect(relativeTime(iso, now)).toBe(expected);
  });

  test('a clock slightly behind the server never shows a negative time', () => {
    expect(relativeTime('2026-01-29T10:30:05Z', now)).toBe('just now');
  });
});

describe('date dividers', () => {
  test('date divider format: weekday, month and day', () => {
    expect(dayLabel('2024-01-29T12:00:00Z')).toBe('Monday, January 29');
  });
  test('two times on the same local day share a divider', () => {
    expect(dayKey('2024-01-29T09:00:00')).toBe(dayKey('2024-01-29T18:00:00'));
    expect(dayKey('2024-01-29T09:00:00')).not.toBe(dayKey('2024-01-30T09:00:00'));
  });
});

describe('browser and OS from a User-Agent', () => {
  test.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on Windows',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge 131 on Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari 17 on iOS',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      'Firefox 128 on Linux',
    ],
  ])('%s', (ua, expected) => {
    expect(describeUserAgent(ua)).toBe(expected);
  });
});
