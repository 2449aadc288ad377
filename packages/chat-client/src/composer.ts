/**
 * Enter sends, Shift+Enter breaks the line, and Enter while an IME is composing (choosing a
 * Chinese candidate, say) confirms the candidate instead of sending.
 */
export function isSendKey(event: {
  key: string;
  shiftKey: boolean;
  isComposing: boolean;
}): boolean {
  return event.key === 'Enter' && !event.shiftKey && !event.isComposing;
}
