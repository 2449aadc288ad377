/**
 * One behavioural contract for every ChatStore implementation (SQLite, MongoDB): the product's rules
 * as the domain applies them over the store, exactly-once sends, gap-free seq under concurrency
 * from two store clients, pagination boundaries, notify claims, operators and attachments.
 * Requests go through the contracts schemas first, as they do at the NATS boundary.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect } from 'vitest';
import { AppError, type ChatId, type UserId } from '@parley/contracts';
import {
  rpcCatalog,
  type EventPayload,
  type EventSubject,
  type RpcRequest,
} from '@parley/contracts/nats';
import { ChatDomain, type Clock, type EventPublisher } from '../src/domain/chats.ts';
import type { AttachmentBlobs, ChatStore } from '../src/domain/store.ts';
import {
  archiveAndReadCases,
  chatAndVisitorCases,
  concurrencyAndPagingCases,
  messageCases,
} from './store-contract/chats.ts';
import {
  attachmentCases,
  consoleListCases,
  notifyClaimCases,
  operatorCases,
} from './store-contract/console.ts';
import { cannedCases } from './store-contract/canned.ts';
import { labelCases } from './store-contract/labels.ts';
import { noteCases } from './store-contract/notes.ts';

export interface StoreHarness {
  /**
   * A store client on the data space `space`: a new space starts empty, and opening the same
   * space again gives a second, independent client on the same data (another process's view).
   */
  open(space: string): Promise<{ store: ChatStore; blobs: AttachmentBlobs }>;
  /** Closes every client and removes the data. */
  dispose(): Promise<void>;
}

export class RecordingEvents implements EventPublisher {
  readonly published: Array<{ subject: EventSubject; payload: unknown; msgId: string }> = [];
  failNext = 0;
  async publish<S extends EventSubject>(
    subject: S,
    payload: EventPayload<S>,
    msgId: string,
  ): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('publish failed (simulated NATS outage)');
    }
    this.published.push({ subject, payload, msgId });
  }
  of<S extends EventSubject>(subject: S): EventPayload<S>[] {
    return this.published
      .filter((e) => e.subject === subject)
      .map((e) => e.payload as EventPayload<S>);
  }
}

/** A clock the test moves by hand, so equal timestamps (tie-breaks) are reproducible. */
class ManualClock implements Clock {
  private t = Date.parse('2026-01-29T10:00:00.000Z');
  now(): Date {
    return new Date(this.t);
  }
  advance(ms = 1000): void {
    this.t += ms;
  }
}

export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export const userId = (): UserId => `v_${randomUUID()}` as UserId;
export const clientId = () => randomUUID();

export function parse<S extends keyof typeof rpcCatalog>(subject: S, raw: RpcRequest<S>) {
  return rpcCatalog[subject].request.parse(raw) as never;
}

export async function expectAppError(
  p: Promise<unknown>,
  code: AppError['code'],
): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

/** What every group of cases gets: fresh stores with a recording event bus, and shortcuts. */
function contractKit(getHarness: () => Promise<StoreHarness>) {
  async function setup(space = randomUUID()) {
    const { store, blobs } = await (await getHarness()).open(space);
    await store.init();
    const events = new RecordingEvents();
    const clock = new ManualClock();
    const domain = new ChatDomain({ store, events, clock });
    return { store, blobs, events, clock, domain, space };
  }

  type Ctx = Awaited<ReturnType<typeof setup>>;

  async function newChat(
    ctx: Ctx,
    visitor: Partial<RpcRequest<'chat.rpc.visitor_chat'>['visitor']> = {},
  ) {
    const chat = await ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: userId(), identified: false, email: null, name: null, ...visitor },
      }),
    );
    return chat;
  }

  function send(
    ctx: Ctx,
    chatId: ChatId,
    content: string,
    extra: Partial<RpcRequest<'chat.rpc.send_message'>> = {},
  ) {
    return ctx.domain.sendMessage(
      parse('chat.rpc.send_message', {
        chat_id: chatId,
        content,
        client_id: clientId(),
        sender_type: 'user',
        sender_id: null,
        sender_name: null,
        ...extra,
      }),
    );
  }

  return { setup, newChat, send, getHarness };
}
export type ContractKit = ReturnType<typeof contractKit>;

export function registerStoreContract(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
): void {
  describe(`ChatStore contract: ${name}`, () => {
    let harness: StoreHarness | undefined;
    const getHarness = async () => (harness ??= await makeHarness());
    afterAll(async () => {
      await harness?.dispose();
    });
    const kit = contractKit(getHarness);
    chatAndVisitorCases(kit);
    messageCases(kit);
    concurrencyAndPagingCases(kit);
    archiveAndReadCases(kit);
    consoleListCases(kit);
    notifyClaimCases(kit);
    operatorCases(kit);
    attachmentCases(kit);
    noteCases(kit);
    cannedCases(kit);
    labelCases(kit);
  });
}
