import type { OperatorId } from '@parley/contracts';

/** What a mention is matched against: an operator's id, display name and email. */
export interface Mentionable {
  id: OperatorId;
  name: string;
  email: string;
  active: boolean;
}

/** `@` at the start or after a non-word character, then letters, digits, `.`, `_` or `-`. */
const MENTION = /(?:^|[^\p{L}\p{N}_])@([\p{L}\p{N}][\p{L}\p{N}._-]*)/gu;

function handles(operator: Mentionable): string[] {
  const name = operator.name.toLocaleLowerCase();
  const first = name.split(/\s+/)[0] ?? name;
  const local = operator.email.toLocaleLowerCase().split('@')[0] ?? '';
  return [first, name.replace(/\s+/g, ''), name.replace(/\s+/g, '.'), local].filter(
    (h) => h.length > 0,
  );
}

/**
 * The active operators a note mentions: `@anna`, `@anna.berg`, `@annaberg` (first name, full
 * name without spaces or with dots) or the email's local part, case-insensitive. The author is
 * never mentioned by their own note; each operator once, in the order of the note.
 */
export function mentionedOperators(
  content: string,
  operators: readonly Mentionable[],
  authorId: string | null,
): OperatorId[] {
  const found: OperatorId[] = [];
  for (const match of content.matchAll(MENTION)) {
    // A trailing dot ends a sentence ("thanks @anna."), not a handle.
    const handle = (match[1] ?? '').toLocaleLowerCase().replace(/[.\-_]+$/, '');
    for (const operator of operators) {
      if (!operator.active || operator.id === authorId || found.includes(operator.id)) continue;
      if (handles(operator).includes(handle)) found.push(operator.id);
    }
  }
  return found;
}
