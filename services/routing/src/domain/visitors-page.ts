import { compareVisitors, visitorMatches, type OnlineVisitor } from '@parley/contracts';
import type { OnlineVisitorsPage, OnlineVisitorsQuery } from '@parley/contracts/http';

/**
 * One page of the visitors browsing now: the console asks for what it shows, so what crosses
 * the wire is bounded by the page, not by the number of visitors. A page also stops short of
 * `maxBytes` (the reply must fit one NATS message); the next one starts at
 * `offset + visitors.length`.
 */
export function pageOfVisitors(
  all: OnlineVisitor[],
  query: OnlineVisitorsQuery,
  maxBytes = Infinity,
): OnlineVisitorsPage {
  const matching = all.filter((v) => visitorMatches(v, query)).sort(compareVisitors(query.sort));
  const visitors: OnlineVisitor[] = [];
  let bytes = 256;
  for (const v of matching.slice(query.offset, query.offset + query.limit)) {
    bytes += Buffer.byteLength(JSON.stringify(v)) + 1;
    if (bytes > maxBytes && visitors.length > 0) break;
    visitors.push(v);
  }
  return { visitors, total: matching.length, online: all.length, offset: query.offset };
}
