import * as z from 'zod/mini';

/*
 * Integer schemas. zod/mini has no `z.number().int()` chain; these build the same schema (a number
 * with the safe-integer check, then the bounds), so parsing and JSON Schema match the classic spelling.
 *
 * Tree-shaking: zod/mini's functions are marked side-effect free, but its methods (`.check()`,
 * `.brand()`) are not, so a bundler keeps every schema built with one even when nothing uses it.
 * The contracts put a PURE annotation before such chains, and these helpers are marked
 * NO_SIDE_EFFECTS, so the widget's bundle holds only the schemas it uses.
 */

/* @__NO_SIDE_EFFECTS__ */
export function int() {
  return z.number().check(z.int());
}

/* @__NO_SIDE_EFFECTS__ */
export function nonNegativeInt() {
  return int().check(z.nonnegative());
}

/* @__NO_SIDE_EFFECTS__ */
export function positiveInt() {
  return int().check(z.positive());
}

/** An integer in [min, max]; `max` may be left out. */
/* @__NO_SIDE_EFFECTS__ */
export function intBetween(min: number, max?: number) {
  return max === undefined ? int().check(z.gte(min)) : int().check(z.gte(min), z.lte(max));
}
