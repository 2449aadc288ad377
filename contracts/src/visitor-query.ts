import type { OnlineVisitorsQuery } from './http.ts';
import type { OnlineVisitor } from './models.ts';

/**
 * What a page query of the online visitors means, in one place: routing answers pages with it,
 * and the console applies live changes to the page it shows with the same rules.
 */
const FILTERS: Record<OnlineVisitorsQuery['filter'], (v: OnlineVisitor) => boolean> = {
  all: () => true,
  chatting: (v) => v.chat_id !== null,
  browsing: (v) => v.chat_id === null,
  identified: (v) => v.identified,
};

const byText = (a: string | null | undefined, b: string | null | undefined) =>
  (a || '\uffff').localeCompare(b || '\uffff', 'en', { sensitivity: 'base' });

const SORTS: Record<OnlineVisitorsQuery['sort'], (a: OnlineVisitor, b: OnlineVisitor) => number> = {
  newest: (a, b) => b.online_since.localeCompare(a.online_since),
  oldest: (a, b) => a.online_since.localeCompare(b.online_since),
  name: (a, b) => byText(a.name ?? a.email, b.name ?? b.email),
  page: (a, b) =>
    byText(
      a.current_page?.title || a.current_page?.url,
      b.current_page?.title || b.current_page?.url,
    ),
};

/** True when the visitor belongs in the query's result (its filter and search). */
export function visitorMatches(
  v: OnlineVisitor,
  query: Pick<OnlineVisitorsQuery, 'q' | 'filter'>,
): boolean {
  if (!FILTERS[query.filter](v)) return false;
  const needle = query.q?.trim().toLowerCase() ?? '';
  if (needle === '') return true;
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

/** The query's order; ties by user_id, so pages never overlap. */
export function compareVisitors(
  sort: OnlineVisitorsQuery['sort'],
): (a: OnlineVisitor, b: OnlineVisitor) => number {
  const by = SORTS[sort];
  return (a, b) => by(a, b) || a.user_id.localeCompare(b.user_id);
}
