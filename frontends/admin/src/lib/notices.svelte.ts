import { describeError } from './errors.ts';

/** Transient messages at the top of the screen: errors the user must see, confirmations. */
export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export const notices = $state<Notice[]>([]);
let nextId = 1;

export function notify(text: string, kind: Notice['kind'] = 'info'): void {
  const id = nextId++;
  notices.push({ id, kind, text });
  // Confirmations fade; errors stay until dismissed.
  if (kind === 'info') setTimeout(() => dismiss(id), 4000);
}

/** The one error handler: every caught failure that the user should know about goes here. */
export function reportError(err: unknown): void {
  console.error(err);
  notify(describeError(err), 'error');
}

export function dismiss(id: number): void {
  const i = notices.findIndex((n) => n.id === id);
  if (i >= 0) notices.splice(i, 1);
}
