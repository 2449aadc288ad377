import type { SupportMessage, SystemEvent } from '@parley/contracts/models';

/**
 * The message keys a system line is written with: each app keeps the sentences in its own
 * dictionaries, under these names, with {name}, {from} and {to} placeholders.
 */
export type SystemEventKey =
  | 'eventJoined'
  | 'eventLeft'
  | 'eventReturned'
  | 'eventTransferred'
  | 'eventClosedByOperator'
  | 'eventClosedByVisitor'
  | 'eventClosedBySystem';

export interface SystemEventText {
  key: SystemEventKey;
  params: Record<string, string>;
}

/** Which sentence an event is and what fills it in. */
export function systemEventText(event: SystemEvent): SystemEventText {
  switch (event.kind) {
    case 'joined':
      return { key: 'eventJoined', params: { name: event.operator_name } };
    case 'left':
      return { key: 'eventLeft', params: { name: event.operator_name } };
    case 'returned_to_queue':
      return { key: 'eventReturned', params: { name: event.operator_name } };
    case 'transferred':
      return { key: 'eventTransferred', params: { from: event.from_name, to: event.to_name } };
    case 'closed':
      if (event.by === 'operator' && event.operator_name)
        return { key: 'eventClosedByOperator', params: { name: event.operator_name } };
      return {
        key: event.by === 'visitor' ? 'eventClosedByVisitor' : 'eventClosedBySystem',
        params: {},
      };
  }
}

/**
 * A system message in the reader's language: from its event when it has one, else the English
 * text it was stored with (lines written before events existed).
 */
export function systemLine(
  message: Pick<SupportMessage, 'content' | 'event'>,
  translate: (key: SystemEventKey, params: Record<string, string>) => string,
): string {
  if (!message.event) return message.content;
  const { key, params } = systemEventText(message.event);
  return translate(key, params);
}
