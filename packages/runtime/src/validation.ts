import * as z from 'zod/v4/core';

const compiledSchemas = new WeakMap<z.$ZodType, z.$ZodType>();

/**
 * The schema with zod's compiled fast path (zod/mini has no JIT of its own), made once per
 * schema. Same results and messages: a value the fast path refuses is re-parsed by the runtime
 * parser, and a schema it cannot model is returned as it is.
 */
export function compiled<T extends z.$ZodType>(schema: T): T {
  let fast = compiledSchemas.get(schema);
  if (!fast) {
    fast = z.compile(schema);
    compiledSchemas.set(schema, fast);
  }
  return fast as T;
}

/** safeParse through the compiled schema: for every payload that crosses a boundary. */
export function safeParseFast<T extends z.$ZodType>(schema: T, value: unknown) {
  return z.safeParse(compiled(schema), value);
}
