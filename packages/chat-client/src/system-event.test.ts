import { describe, expect, test } from 'vitest';
import { systemEventText, systemLine, type SystemEventKey } from './system-event.ts';

const russian: Record<SystemEventKey, string> = {
  eventJoined: '{name} присоединился к чату',
  eventLeft: '{name} покинул чат',
  eventReturned: '{name} вернул чат в очередь',
  eventTransferred: 'Чат передан от {from} к {to}',
  eventClosedByOperator: 'Чат закрыл(а) {name}',
  eventClosedByVisitor: 'Вы закрыли чат',
  eventClosedBySystem: 'Чат закрыт автоматически',
};
const translate = (key: SystemEventKey, params: Record<string, string>) =>
  russian[key].replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');

describe('system lines', () => {
  test('an event is said in the reader language with its names', () => {
    expect(
      systemLine(
        {
          content: 'Transferred from Anna to Boris',
          event: { kind: 'transferred', from_name: 'Anna', to_name: 'Boris' },
        },
        translate,
      ),
    ).toBe('Чат передан от Anna к Boris');
    expect(
      systemLine(
        { content: 'Anna joined the chat', event: { kind: 'joined', operator_name: 'Anna' } },
        translate,
      ),
    ).toBe('Anna присоединился к чату');
  });

  test('who closed the chat picks the sentence', () => {
    expect(systemEventText({ kind: 'closed', by: 'operator', operator_name: 'Anna' })).toEqual({
      key: 'eventClosedByOperator',
      params: { name: 'Anna' },
    });
    expect(systemEventText({ kind: 'closed', by: 'visitor', operator_name: null }).key).toBe(
      'eventClosedByVisitor',
    );
    expect(systemEventText({ kind: 'closed', by: 'system', operator_name: null }).key).toBe(
      'eventClosedBySystem',
    );
  });

  test('a line stored before events existed shows its stored text', () => {
    expect(systemLine({ content: 'Anna left the chat' }, translate)).toBe('Anna left the chat');
  });
});
