import * as z from 'zod/mini';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces every lone UTF-16 surrogate with U+FFFD. JSON may carry one (`"\ud800"`), but it has
 * no UTF-8 form: stores, Lua's cjson and other clients reject or mangle it.
 */
export function toWellFormed(s: string): string {
  return typeof s.toWellFormed === 'function'
    ? s.toWellFormed()
    : s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * A check for every free-text string that enters the system (names, emails, page titles, URLs,
 * message text). Put it first: it keeps the length, so later length checks are unaffected.
 */
export const wellFormed = () => z.overwrite(toWellFormed);
