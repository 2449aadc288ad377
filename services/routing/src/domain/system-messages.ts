import type { ChatId, SystemEvent } from '@parley/contracts';
import type { Changes } from './ports.ts';

export interface SystemLine {
  chatId: ChatId;
  /** The English sentence: what clients that do not know the event show. */
  text: string;
  /** What happened, so each reader's app can say it in their language. */
  event: SystemEvent;
}

/** The English sentence of an event (the stored fallback text). */
export function englishText(event: SystemEvent): string {
  switch (event.kind) {
    case 'joined':
      return `${event.operator_name} joined the chat`;
    case 'left':
      return `${event.operator_name} left the chat`;
    case 'returned_to_queue':
      return `${event.operator_name} returned the chat to the queue`;
    case 'transferred':
      return `Transferred from ${event.from_name} to ${event.to_name}`;
    case 'closed':
      return `Chat closed by ${
        event.by === 'operator'
          ? (event.operator_name ?? 'an operator')
          : event.by === 'visitor'
            ? 'the visitor'
            : 'the system'
      }`;
  }
}

/** The history lines that record who joined, transfers and closes (docs/PRODUCT.md, Operators and routing). */
export function systemMessagesFor(changes: Changes<unknown>): SystemLine[] {
  const events: Array<{ chatId: ChatId; event: SystemEvent }> = [];
  for (const u of changes.unassigned) {
    if (u.reason === 'offline')
      events.push({ chatId: u.chatId, event: { kind: 'left', operator_name: u.operatorName } });
    if (u.reason === 'transferred' && u.toQueue) {
      events.push({
        chatId: u.chatId,
        event: { kind: 'returned_to_queue', operator_name: u.operatorName },
      });
    }
  }
  for (const a of changes.assigned) {
    if (a.reason === 'transfer' && a.from) {
      events.push({
        chatId: a.chatId,
        event: { kind: 'transferred', from_name: a.from.name, to_name: a.operatorName },
      });
    } else if (a.reason !== 'invitation') {
      events.push({ chatId: a.chatId, event: { kind: 'joined', operator_name: a.operatorName } });
    }
  }
  for (const c of changes.closed) {
    events.push({
      chatId: c.chatId,
      event: {
        kind: 'closed',
        by: c.byKind,
        operator_name: c.byKind === 'operator' ? c.byName : null,
      },
    });
  }
  return events.map(({ chatId, event }) => ({ chatId, text: englishText(event), event }));
}
