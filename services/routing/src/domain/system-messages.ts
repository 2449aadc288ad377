import type { ChatId } from '@parley/contracts';
import type { Changes } from './ports.ts';

/** The history lines that record who joined, transfers and closes (docs/PRODUCT.md, Operators and routing). */
export function systemMessagesFor(
  changes: Changes<unknown>,
): Array<{ chatId: ChatId; text: string }> {
  const lines: Array<{ chatId: ChatId; text: string }> = [];
  for (const u of changes.unassigned) {
    if (u.reason === 'offline')
      lines.push({ chatId: u.chatId, text: `${u.operatorName} left the chat` });
    if (u.reason === 'transferred' && u.toQueue) {
      lines.push({ chatId: u.chatId, text: `${u.operatorName} returned the chat to the queue` });
    }
  }
  for (const a of changes.assigned) {
    if (a.reason === 'transfer' && a.from) {
      lines.push({
        chatId: a.chatId,
        text: `Transferred from ${a.from.name} to ${a.operatorName}`,
      });
    } else if (a.reason !== 'invitation') {
      lines.push({ chatId: a.chatId, text: `${a.operatorName} joined the chat` });
    }
  }
  for (const c of changes.closed) {
    const by =
      c.byKind === 'operator' ? c.byName : c.byKind === 'visitor' ? 'the visitor' : 'the system';
    lines.push({ chatId: c.chatId, text: `Chat closed by ${by}` });
  }
  return lines;
}
