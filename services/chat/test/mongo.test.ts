import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { connectMongoStore, type MongoChatStore } from '../src/adapters/mongo.ts';
import { registerStoreContract } from './store.contract.ts';

/**
 * The same contract suite on MongoDB: against MONGO_URL when set, else a throwaway replica set
 * started with testcontainers when a Docker engine answers, else skipped with the reason.
 */
async function mongoTarget(): Promise<
  { url: string; stop: () => Promise<void> } | { skip: string }
> {
  if (process.env.MONGO_URL) return { url: process.env.MONGO_URL, stop: async () => {} };
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (e) {
    return {
      skip: `MONGO_URL is not set and no Docker engine answers for testcontainers (${String(e).split('\n')[0]})`,
    };
  }
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const container = await new MongoDBContainer('mongo:8').start();
  const url = container.getConnectionString();
  return {
    url: url.includes('directConnection')
      ? url
      : `${url}${url.includes('?') ? '&' : '?'}directConnection=true`,
    stop: async () => {
      await container.stop();
    },
  };
}

const target = await mongoTarget();

if ('skip' in target) {
  console.log(`MongoDB store contract suite skipped: ${target.skip}`);
  describe.skip(`ChatStore contract: MongoDB (skipped: ${target.skip})`, () => {
    it('runs when MONGO_URL is set or Docker is available', () => {});
  });
} else {
  registerStoreContract('MongoDB (official driver)', async () => {
    const run = randomUUID().slice(0, 8);
    const opened: MongoChatStore[] = [];
    const dbNames = new Set<string>();
    return {
      async open(space) {
        const dbName = `parley_test_${run}_${space.slice(0, 8)}`;
        dbNames.add(dbName);
        const { store, blobs } = await connectMongoStore({ url: target.url, dbName });
        opened.push(store);
        return { store, blobs };
      },
      async dispose() {
        for (const dbName of dbNames) await opened[0]?.database.client.db(dbName).dropDatabase();
        for (const s of opened) await s.close();
        await target.stop();
      },
    };
  });
}
