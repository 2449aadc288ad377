import type { CannedResponse } from '@parley/contracts';

/** The variables a canned reply may use, with what fills them when it is inserted. */
export const CANNED_VARIABLES = ['visitor.name', 'visitor.email', 'operator.name', 'chat.id'];

export type CannedValues = Partial<Record<string, string | null>>;

const VARIABLE = /\{\{\s*([a-z]+\.[a-z_]+)\s*(?:\|([^}]*))?\}\}/g;

/**
 * `{{visitor.name}}` becomes the visitor's name; `{{visitor.name|there}}` falls back to "there"
 * when the name is unknown (empty without a fallback). An unknown variable stays as written,
 * so a typo shows before the operator sends.
 */
export function fillCanned(content: string, values: CannedValues): string {
  return content.replace(VARIABLE, (whole, name: string, fallback: string | undefined) => {
    if (!CANNED_VARIABLES.includes(name)) return whole;
    const value = values[name]?.trim();
    if (value) return value;
    return fallback?.trim() ?? '';
  });
}

/** The replies whose shortcut starts with, or whose shortcut or title contains, the query. */
export function matchCanned(replies: readonly CannedResponse[], query: string): CannedResponse[] {
  const q = query.toLocaleLowerCase();
  const starts = replies.filter((r) => r.shortcut.toLocaleLowerCase().startsWith(q));
  const contains = replies.filter(
    (r) =>
      !starts.includes(r) &&
      (r.shortcut.toLocaleLowerCase().includes(q) || r.title.toLocaleLowerCase().includes(q)),
  );
  return [...starts, ...contains];
}
