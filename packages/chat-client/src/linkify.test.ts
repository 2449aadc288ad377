import { describe, expect, test } from 'vitest';
import { linkify } from './linkify.ts';

describe('linkify', () => {
  test('turns http and https URLs into links and keeps the rest as text', () => {
    expect(linkify('see https://example.com/a?b=1 and http://x.org.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://x.org', href: 'http://x.org/' },
      { kind: 'text', text: '.' },
    ]);
  });

  test('never links other schemes; markup stays a text segment', () => {
    const text = '<a href="javascript:alert(1)">x</a> javascript:alert(1) data:text/html,hi';
    expect(linkify(text)).toEqual([{ kind: 'text', text }]);
  });

  test('trailing punctuation and closing brackets are not part of the link', () => {
    const segments = linkify('(https://example.com/path), ok');
    expect(segments.find((s) => s.kind === 'link')).toEqual({
      kind: 'link',
      text: 'https://example.com/path',
      href: 'https://example.com/path',
    });
  });
});
