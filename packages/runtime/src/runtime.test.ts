import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '@parley/contracts/errors';
import { connectBus, type Bus } from './bus.ts';
import { ConfigError, baseConfig, envDuration, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startNatsServer, type ManagedProcess } from './testing/index.ts';
import { compiled, safeParseFast } from './validation.ts';
import { ClientFrame } from '@parley/contracts/ws';
import * as zc from 'zod/v4/core';

const logger = createLogger('runtime-test', 'silent');
const chatId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

describe('loadConfig', () => {
  it('lists every bad key at once', () => {
    const schema = baseConfig.extend({
      HTTP_PORT: z.coerce.number().int().min(1).describe('port'),
      NOTIFY_DELAY: envDuration.describe('delay'),
    });
    let message = '';
    try {
      loadConfig(schema, { HTTP_PORT: 'abc', NOTIFY_DELAY: 'soon', LOG_LEVEL: 'loud' });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toContain('HTTP_PORT');
    expect(message).toContain('NOTIFY_DELAY');
    expect(message).toContain('LOG_LEVEL');
  });

  it('parses durations', () => {
    const cfg = loadConfig(z.object({ D: envDuration }), { D: '5m' });
    expect(cfg.D).toBe(300_000);
    expect(loadConfig(z.object({ D: envDuration }), { D: '30d' }).D).toBe(30 * 86_400_000);
    expect(() => loadConfig(z.object({ D: envDuration }), { D: '5 weeks' })).toThrow(/duration/);
  });
});

describe('compiled schemas', () => {
  it('accept, transform and reject exactly like the runtime parser, with the same messages', () => {
    const frames: unknown[] = [
      { type: 'send_message', chat_id: chatId, content: '  hello  ', client_id: chatId },
      { type: 'send_message', chat_id: chatId, content: '   ', client_id: chatId },
      { type: 'send_message', chat_id: chatId, content: 'x'.repeat(5001), client_id: chatId },
      { type: 'send_message', chat_id: { $ne: null }, content: 'hi', client_id: chatId },
      { type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: 3 },
      { type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: -1 },
      { type: 'typing', chat_id: 'not-a-uuid' },
      { type: 'nope' },
      'garbage',
      null,
    ];
    for (const frame of frames) {
      expect(safeParseFast(ClientFrame, frame)).toEqual(zc.safeParse(ClientFrame, frame));
    }
    // Trimmed by the compiled path as by the runtime one.
    expect(safeParseFast(ClientFrame, frames[0])).toMatchObject({
      success: true,
      data: { content: 'hello' },
    });
    expect(compiled(ClientFrame)).toBe(compiled(ClientFrame));
  });
});

describe('bus over a real nats-server', () => {
  let nats: ManagedProcess;
  let a: Bus;
  let b: Bus;
  beforeAll(async () => {
    nats = await startNatsServer();
    a = await connectBus({ servers: nats.url, name: 'a', logger });
    b = await connectBus({ servers: nats.url, name: 'b', logger });
  });
  afterAll(async () => {
    await a.drain();
    await b.drain();
    await nats.stop();
  });

  it('validates RPC requests and carries domain errors back', async () => {
    b.serve('chat.rpc.chat_owner', async (req) => {
      throw new AppError('not_found', `No chat ${req.chat_id}`);
    });
    await expect(
      a.request('chat.rpc.chat_owner', { chat_id: chatId as never }),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      a.request('chat.rpc.chat_owner', { chat_id: { $ne: null } as never }),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('answers unavailable when nobody serves a subject', async () => {
    await expect(a.request('routing.rpc.queue', {}, { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'unavailable',
    });
  });

  it('delivers durable events to a durable consumer after a restart of the consumer', async () => {
    await a.ensureStreams();
    const profile = {
      id: 'v_abc',
      name: null,
      email: null,
      identified: false,
      unsubscribed: false,
    };
    await a.publishDurable('chat.evt.visitor_updated', { profile: profile as never });
    const got: string[] = [];
    const consumer = await b.consumeDurable({
      stream: 'CHAT_EVENTS',
      durable: 'runtime-test',
      subjects: ['chat.evt.visitor_updated'],
      handler: async (evt) => {
        if (evt.subject === 'chat.evt.visitor_updated') got.push(evt.payload.profile.id);
      },
    });
    await expect.poll(() => got).toEqual(['v_abc']);
    await consumer.stop();
  });
});
