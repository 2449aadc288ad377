import { compareVisitors, visitorMatches, type OnlineVisitor } from '@parley/contracts';
import type { OnlineVisitorsQuery } from '@parley/contracts/http';

/** The page of online visitors the console shows: what the server sent, kept current by changes. */
export interface VisitorPage {
  query: OnlineVisitorsQuery;
  visitors: OnlineVisitor[];
  /** How many match the query (all pages). */
  total: number;
}

/**
 * Applies one visitor's change (`visitor: null` when they left) to the shown page, with the
 * same filter, search and order as the server: a visitor that now matches and sorts into the
 * page appears in place, one that no longer matches disappears. Visitors on other pages are
 * only counted; moving pages asks the server again.
 */
export function applyVisitorChange(
  page: VisitorPage,
  userId: string,
  visitor: OnlineVisitor | null,
): VisitorPage {
  const { query } = page;
  const at = page.visitors.findIndex((v) => v.user_id === userId);
  const rest = at < 0 ? page.visitors : page.visitors.filter((_, i) => i !== at);
  const matches = visitor !== null && visitorMatches(visitor, query);
  if (!matches) {
    // Left or filtered out: only the count can tell for a visitor on another page.
    if (at < 0) return page;
    return { ...page, visitors: rest, total: Math.max(0, page.total - 1) };
  }
  const total = at < 0 ? page.total + 1 : page.total;
  const compare = compareVisitors(query.sort);
  const sorted = [...rest, visitor].sort(compare);
  const index = sorted.indexOf(visitor);
  const full = rest.length >= query.limit;
  // Sorts before this page (it starts past the first): it belongs to an earlier one.
  if (query.offset > 0 && index === 0 && at < 0) return { ...page, total };
  // Sorts after a full page: it belongs to a later one.
  if (full && index === sorted.length - 1 && at < 0) return { ...page, total };
  return { ...page, visitors: sorted.slice(0, query.limit), total };
}
