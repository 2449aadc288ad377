import { describe, expect, it } from 'vitest';
import type { OnlineVisitor, UserId } from '@parley/contracts';
import { applyVisitorChange, type VisitorPage } from './visitor-page.ts';

const visitor = (n: number, extra: Partial<OnlineVisitor> = {}): OnlineVisitor => ({
  user_id: `v_${n}` as UserId,
  name: `Visitor ${String(n).padStart(2, '0')}`,
  email: null,
  identified: false,
  current_page: null,
  pages_seen: [],
  first_seen_at: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
  online_since: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
  returning: false,
  country: null,
  user_agent: null,
  timezone: null,
  chat_id: null,
  ...extra,
});

const page = (
  visitors: OnlineVisitor[],
  query: Partial<VisitorPage['query']> = {},
): VisitorPage => ({
  query: { filter: 'all', sort: 'name', offset: 0, limit: 3, ...query },
  visitors,
  total: visitors.length,
});

const names = (p: VisitorPage) => p.visitors.map((v) => v.name);

describe('the console’s page of online visitors under live changes', () => {
  it('inserts an arrival in order, updates in place, and drops one who left', () => {
    let p = page([visitor(1), visitor(3)]);
    p = applyVisitorChange(p, 'v_2', visitor(2));
    expect(names(p)).toEqual(['Visitor 01', 'Visitor 02', 'Visitor 03']);
    expect(p.total).toBe(3);
    p = applyVisitorChange(
      p,
      'v_2',
      visitor(2, { current_page: { url: 'https://x.example/', title: 'X' } }),
    );
    expect(p.visitors[1]?.current_page?.title).toBe('X');
    expect(p.total).toBe(3);
    p = applyVisitorChange(p, 'v_1', null);
    expect(names(p)).toEqual(['Visitor 02', 'Visitor 03']);
    expect(p.total).toBe(2);
  });

  it('counts an arrival that sorts past a full page without showing it', () => {
    const p = applyVisitorChange(page([visitor(1), visitor(2), visitor(3)]), 'v_9', visitor(9));
    expect(names(p)).toEqual(['Visitor 01', 'Visitor 02', 'Visitor 03']);
    expect(p.total).toBe(4);
  });

  it('applies the filter and search: a visitor who starts chatting leaves the browsing list', () => {
    let p = page([visitor(1), visitor(2)], { filter: 'browsing' });
    p = applyVisitorChange(p, 'v_2', visitor(2, { chat_id: 'c' as never }));
    expect(names(p)).toEqual(['Visitor 01']);
    p = page([], { q: 'pricing' });
    p = applyVisitorChange(p, 'v_4', visitor(4));
    expect(p.visitors).toEqual([]);
    p = applyVisitorChange(
      p,
      'v_4',
      visitor(4, {
        current_page: { url: 'https://shop.example/pricing', title: '' },
      }),
    );
    expect(names(p)).toEqual(['Visitor 04']);
  });
});
