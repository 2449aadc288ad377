import type { OnlineVisitor } from '@parley/contracts';
import type { OnlineVisitorsPage, OnlineVisitorsQuery } from '@parley/contracts/http';

const FILTERS: Record<OnlineVisitorsQuery['filter'], (v: OnlineVisitor) => boolean> = {
  all: () => true,
  chatting: (v) => v.chat_id !== null,
  browsing: (v) => v.chat_id === null,
  identified: (v) => v.identified,
};

const byText = (a: string | null, b: string | null) =>
  (a ?? '\uffff').localeCompare(b ?? '\uffff', 'en', { sensitivity: 'base' });

const SORTS: Record<OnlineVisitorsQuery['sort'], (a: OnlineVisitor, b: OnlineVisitor) => number> = {
  newest: (a, b) => b.online_since.localeCompare(a.online_since),
  oldest: (a, b) => a.online_since.localeCompare(b.online_since),
  name: (a, b) => byText(a.name ?? a.email, b.name ?? b.email),
  page: (a, b) =>
    byText(a.current_page?.title || a.current_page?.url || null, b.current_page?.title || null),
};

function matches(v: OnlineVisitor, needle: string): boolean {
  const fields = [
    v.name,
    v.email,
    v.country,
    v.current_page?.url,
    v.current_page?.title,
    v.user_id,
  ];
  return fields.some((f) => f?.toLowerCase().includes(needle));
}

/**
 * One page of the visitors browsing now: the console asks for what it shows, so what crosses
 * the wire is bounded by the page, not by the number of visitors. Ties keep user_id order, so
 * pages do not overlap. A page also stops short of `maxBytes` (the reply must fit one NATS
 * message); the next one starts at `offset + visitors.length`.
 */
export function pageOfVisitors(
  all: OnlineVisitor[],
  query: OnlineVisitorsQuery,
  maxBytes = Infinity,
): OnlineVisitorsPage {
  const needle = query.q?.trim().toLowerCase() ?? '';
  const keep = FILTERS[query.filter];
  const sort = SORTS[query.sort];
  const matching = all
    .filter((v) => keep(v) && (needle === '' || matches(v, needle)))
    .sort((a, b) => sort(a, b) || a.user_id.localeCompare(b.user_id));
  const visitors: OnlineVisitor[] = [];
  let bytes = 256;
  for (const v of matching.slice(query.offset, query.offset + query.limit)) {
    bytes += Buffer.byteLength(JSON.stringify(v)) + 1;
    if (bytes > maxBytes && visitors.length > 0) break;
    visitors.push(v);
  }
  return {
    visitors,
    total: matching.length,
    online: all.length,
    offset: query.offset,
  };
}
