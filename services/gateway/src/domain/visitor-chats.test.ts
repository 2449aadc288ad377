import { describe, expect, it } from 'vitest';
import type { ChatId, UserId } from '@parley/contracts/models';
import type { VisitorIdentity } from '@parley/contracts/nats';
import { VisitorChats } from './visitor-chats.ts';

const visitor = (id: string): VisitorIdentity => ({
  user_id: id as UserId,
  identified: false,
  name: null,
  email: null,
});

describe('VisitorChats', () => {
  it('asks the chat service for a visitor’s chat once, then answers from memory', async () => {
    const asked: string[] = [];
    const chats = new VisitorChats(async (v) => {
      asked.push(v.user_id);
      return `chat-of-${v.user_id}` as ChatId;
    });
    expect(await chats.chatIdOf(visitor('v_a'))).toBe('chat-of-v_a');
    expect(await chats.chatIdOf(visitor('v_a'))).toBe('chat-of-v_a');
    chats.remember('v_b' as UserId, 'known' as ChatId);
    expect(await chats.chatIdOf(visitor('v_b'))).toBe('known');
    expect(asked).toEqual(['v_a']);
  });

  it('does not remember a failed lookup', async () => {
    let fail = true;
    const chats = new VisitorChats(async () => {
      if (fail) throw new Error('chat unavailable');
      return 'c' as ChatId;
    });
    await expect(chats.chatIdOf(visitor('v_c'))).rejects.toThrow('chat unavailable');
    fail = false;
    expect(await chats.chatIdOf(visitor('v_c'))).toBe('c');
  });
});
