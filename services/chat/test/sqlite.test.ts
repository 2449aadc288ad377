import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskBlobs } from '../src/adapters/disk-blobs.ts';
import { SqliteChatStore } from '../src/adapters/sqlite.ts';
import type { ChatStore } from '../src/domain/store.ts';
import { describe, expect, it } from 'vitest';
import type { ChatId, ClientId, MessageId, UserId } from '@parley/contracts';
import { registerStoreContract } from './store.contract.ts';

registerStoreContract('SQLite (node:sqlite, one file per space)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-chat-sqlite-'));
  const opened: ChatStore[] = [];
  return {
    async open(space) {
      const store = new SqliteChatStore(path.join(dir, `${space}.sqlite`));
      opened.push(store);
      return { store, blobs: new DiskBlobs(path.join(dir, `${space}-attachments`)) };
    },
    async dispose() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite group commit', () => {
  it('commits a burst of appends together without letting one failure undo the others', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-chat-group-'));
    const file = path.join(dir, 'group.sqlite');
    const store = new SqliteChatStore(file);
    try {
      await store.init();
      const chat = await store.getOrCreateChat({
        id: randomUUID() as ChatId,
        user_id: 'u_group' as UserId,
        now: new Date().toISOString(),
      });
      const message = (i: number, id = randomUUID()) => ({
        id: id as MessageId,
        chat_id: chat.id,
        content: `burst ${i}`,
        sender_type: 'user' as const,
        sender_id: 'u_group',
        sender_name: null,
        client_id: randomUUID() as ClientId,
        attachment_ids: [],
        preview: `burst ${i}`,
        unarchive: true,
        now: new Date().toISOString(),
      });
      const taken = randomUUID();
      await store.appendMessage(message(0, taken));
      // One burst: 10 good appends, one to a chat that does not exist (an error result) and one
      // reusing a stored id (the database refuses it), all in the same group commit.
      const burst = await Promise.allSettled([
        ...Array.from({ length: 5 }, (_, i) => store.appendMessage(message(i + 1))),
        store.appendMessage({ ...message(99), chat_id: randomUUID() as ChatId }),
        store.appendMessage(message(98, taken)),
        ...Array.from({ length: 5 }, (_, i) => store.appendMessage(message(i + 6))),
      ]);
      expect(burst.map((r) => r.status)).toEqual([
        ...Array<string>(6).fill('fulfilled'),
        'rejected',
        ...Array<string>(5).fill('fulfilled'),
      ]);
      expect(burst[5]).toMatchObject({ value: { error: 'chat_not_found' } });
      const stored = (await store.messagesAfter(chat.id, 0, 100, 'operator')).messages;
      expect(stored.map((m) => m.content)).toEqual(
        Array.from({ length: 11 }, (_, i) => `burst ${i}`),
      );
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
      // Durable: another connection to the file sees all of it.
      const reader = new SqliteChatStore(file);
      expect((await reader.messagesAfter(chat.id, 0, 100, 'operator')).messages).toHaveLength(11);
      await reader.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite files from before system events', () => {
  it('gains the new columns on start, counts the stored messages and reads old lines as text', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-chat-upgrade-'));
    const file = path.join(dir, 'old.sqlite');
    try {
      const first = new SqliteChatStore(file);
      await first.init();
      const chat = await first.getOrCreateChat({
        id: randomUUID() as ChatId,
        user_id: 'u_upgrade' as UserId,
        now: new Date().toISOString(),
      });
      const append = (content: string, sender: 'user' | 'system') =>
        first.appendMessage({
          id: randomUUID() as MessageId,
          chat_id: chat.id,
          content,
          sender_type: sender,
          sender_id: null,
          sender_name: null,
          client_id: sender === 'user' ? (randomUUID() as ClientId) : null,
          attachment_ids: [],
          preview: content,
          unarchive: false,
          now: new Date().toISOString(),
        });
      await append('hi', 'user');
      await append('Anna joined the chat', 'system');
      await append('thanks', 'user');
      await first.close();
      // What an older version left on disk: no message_count, no event column.
      const { DatabaseSync } = await import('node:sqlite');
      const raw = new DatabaseSync(file);
      raw.exec('ALTER TABLE support_chats DROP COLUMN message_count');
      raw.exec('ALTER TABLE support_messages DROP COLUMN event');
      raw.close();

      const upgraded = new SqliteChatStore(file);
      await upgraded.init();
      expect((await upgraded.getChat(chat.id))?.message_count).toBe(2);
      const page = await upgraded.messagesBefore(chat.id, null, 10, 'operator');
      expect(page.messages.map((m) => [m.content, m.event ?? null])).toEqual([
        ['hi', null],
        ['Anna joined the chat', null],
        ['thanks', null],
      ]);
      await upgraded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
