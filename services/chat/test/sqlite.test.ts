import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskBlobs } from '../src/adapters/disk-blobs.ts';
import { SqliteChatStore } from '../src/adapters/sqlite.ts';
import type { ChatStore } from '../src/domain/store.ts';
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
