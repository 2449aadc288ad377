/**
 * The per-service NATS users, against a real nats-server started with the generated config:
 * each service can serve, request, publish and subscribe what its table grants, and the server
 * refuses what it does not. Also: the table matches the subjects each service's source uses.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventCatalog, rpcCatalog } from '@parley/contracts/nats';
import type { Operator } from '@parley/contracts/models';
import {
  natsAccess,
  natsServices,
  publishedBy,
  servedBy,
  type NatsService,
} from '@parley/contracts/nats-permissions';
import { repoRoot, startNatsServer, waitFor, type ManagedProcess } from '@parley/runtime/testing';
import { connectBus, createLogger } from '@parley/runtime';
import {
  generateNatsPasswords,
  natsServerEnv,
  renderNatsAuthorization,
} from '../../scripts/lib/nats-config.ts';
import { createSpentLinks } from '../../services/gateway/src/adapters/spent-links.ts';

let nats: ManagedProcess;
const conns = {} as Record<NatsService, NatsConnection>;
const passwordOf = generateNatsPasswords();

beforeAll(async () => {
  const passwords = passwordOf;
  nats = await startNatsServer({
    config: renderNatsAuthorization(),
    env: natsServerEnv(passwords),
  });
  for (const s of natsServices) {
    conns[s] = await connect({ servers: nats.url, user: s, pass: passwords[s] });
  }
});
afterAll(async () => {
  for (const nc of Object.values(conns)) await nc?.close();
  await nats?.stop();
});

const serverOf = (subject: string) =>
  natsServices.find((s) => servedBy(s).includes(subject as never));
const publisherOf = (subject: string) =>
  natsServices.find((s) => publishedBy(s).includes(subject as never));

const violations = () => (nats.logs?.() ?? '').split('\n').filter((l) => l.includes('Violation'));

describe('NATS users per service', () => {
  it('every RPC is served by exactly one service, every event published by exactly one', () => {
    for (const subject of Object.keys(rpcCatalog)) {
      expect(natsServices.filter((s) => servedBy(s).includes(subject as never))).toHaveLength(1);
    }
    for (const subject of Object.keys(eventCatalog)) {
      expect(natsServices.filter((s) => publishedBy(s).includes(subject as never))).toHaveLength(1);
    }
  });

  it("each service's granted requests reach the serving service and get its reply", async () => {
    for (const caller of natsServices) {
      for (const subject of natsAccess[caller].requests) {
        const server = conns[serverOf(subject)!];
        const sub = server.subscribe(subject, {
          queue: 'q',
          callback: (_err, msg) => void msg.respond('pong'),
        });
        await server.flush();
        const reply = await conns[caller].request(subject, 'ping', { timeout: 2000 });
        expect(`${caller} → ${subject}: ${reply.string()}`).toBe(`${caller} → ${subject}: pong`);
        sub.unsubscribe();
      }
    }
  });

  it("each service's granted subscriptions receive what the publishing service sends", async () => {
    for (const reader of natsServices) {
      for (const subject of natsAccess[reader].subscribes) {
        const got: string[] = [];
        const sub = conns[reader].subscribe(subject, {
          callback: (_e, m) => void got.push(m.string()),
        });
        await conns[reader].flush();
        conns[publisherOf(subject)!].publish(subject, 'evt');
        await waitFor(() => got.length === 1, { timeoutMs: 2000, what: `${reader} ← ${subject}` });
        sub.unsubscribe();
      }
    }
    expect(violations()).toEqual([]);
  });

  it('refuses an RPC a service was not granted: routing cannot create an operator', async () => {
    const handled: string[] = [];
    const sub = conns.chat.subscribe('chat.rpc.operator_create', {
      callback: (_e, m) => {
        handled.push(m.string());
        m.respond('created');
      },
    });
    await conns.chat.flush();
    await expect(
      conns.routing.request('chat.rpc.operator_create', 'x', { timeout: 1000 }),
    ).rejects.toThrow();
    await waitFor(() => violations().some((l) => l.includes('chat.rpc.operator_create')), {
      timeoutMs: 2000,
      what: 'the server logging the refused publish',
    });
    expect(handled).toEqual([]);
    sub.unsubscribe();
  });

  it('refuses publishing another service’s events and subscribing to what was not granted', async () => {
    // notify publishes no chat events; chat reads no gateway signals; nobody but chat serves chat RPCs.
    const got: string[] = [];
    const sub = conns.gateway.subscribe('chat.evt.message_created', {
      callback: (_e, m) => void got.push(m.string()),
    });
    await conns.gateway.flush();
    conns.notify.publish('chat.evt.message_created', 'forged');
    await conns.notify.flush();
    const refused = conns.chat.subscribe('gateway.typing');
    const ended = (async () => {
      try {
        for await (const _m of refused) void _m;
        return 'ended';
      } catch (err) {
        return String(err);
      }
    })();
    const stolen = conns.routing.subscribe('chat.rpc.operator_authenticate');
    await waitFor(
      () =>
        violations().some((l) => l.includes('chat.evt.message_created')) &&
        violations().some((l) => l.includes('gateway.typing')) &&
        violations().some((l) => l.includes('chat.rpc.operator_authenticate')),
      { timeoutMs: 3000, what: 'the server logging all three refusals' },
    );
    expect(await ended).toMatch(/permission/i);
    expect(got).toEqual([]);
    sub.unsubscribe();
    stolen.unsubscribe();
  });
});

describe('JetStream through the services’ own users', () => {
  const logger = createLogger('nats-permissions-test', 'silent');
  const busOf = (service: NatsService) =>
    connectBus({
      servers: nats.url,
      name: service,
      logger,
      user: service,
      pass: passwordOf[service],
    });

  it('each service creates the streams; routing reads chat’s stored events with its durable consumer, gateways follow revocations', async () => {
    const before = violations().length;
    const buses = await Promise.all(natsServices.map(busOf));
    try {
      for (const bus of buses) await bus.ensureStreams();
      const [gateway, chat, routing] = buses;
      const seen: string[] = [];
      const consumer = await routing!.consumeDurable({
        stream: 'CHAT_EVENTS',
        durable: 'routing-permissions-test',
        subjects: ['chat.evt.operator_changed'],
        handler: async (event) => {
          seen.push(event.subject);
        },
      });
      await chat!.publishDurable('chat.evt.operator_changed', {
        operator: {
          id: randomUUID() as Operator['id'],
          email: 'ada@parley.test',
          name: 'Ada',
          role: 'agent',
          max_chats: 5,
          active: true,
          created_at: new Date().toISOString(),
        },
      });
      const revoked: string[] = [];
      const follower = await gateway!.followStream({
        stream: 'TOKEN_REVOCATIONS',
        handler: (event) => {
          if (event.subject === 'gateway.token_revoked') revoked.push(event.payload.jti);
        },
      });
      await gateway!.publishDurable('gateway.token_revoked', { jti: 'jti-1', exp: 1 });
      await waitFor(() => seen.length === 1 && revoked.includes('jti-1'), {
        what: 'the durable consumer and the stream follower receiving',
      });
      await consumer.stop();
      await follower.stop();
      expect(violations().slice(before)).toEqual([]);
    } finally {
      for (const bus of buses) await bus.drain();
    }
  });

  it('refuses a consumer on a stream the service does not read: notify cannot follow ROUTING_EVENTS', async () => {
    const notify = await busOf('notify');
    try {
      await expect(
        notify.consumeDurable({
          stream: 'ROUTING_EVENTS',
          durable: 'not-granted',
          subjects: ['routing.evt.assigned'],
          handler: async () => undefined,
          ackWaitMs: 1000,
        }),
      ).rejects.toThrow();
      await waitFor(() => violations().some((l) => l.includes('ROUTING_EVENTS')), {
        timeoutMs: 3000,
        what: 'the server logging the refused consumer',
      });
    } finally {
      await notify.drain();
    }
  });
});

describe('NATS KV through the gateway’s own user', () => {
  const logger = createLogger('nats-permissions-test', 'silent');

  it('the gateway spends an email link once (bucket created, key written, spent key read back)', async () => {
    const before = violations().length;
    const gateway = await connectBus({
      servers: nats.url,
      name: 'gateway',
      logger,
      user: 'gateway',
      pass: passwordOf.gateway,
    });
    try {
      const links = createSpentLinks(gateway, 1);
      const jti = randomUUID();
      expect(await links.spend(jti)).toBe(true);
      expect(await links.spend(jti)).toBe(false);
      expect(violations().slice(before)).toEqual([]);
    } finally {
      await gateway.drain();
    }
  });

  it('refuses the bucket to a service not granted it: notify cannot spend an email link', async () => {
    const notify = await connectBus({
      servers: nats.url,
      name: 'notify',
      logger,
      user: 'notify',
      pass: passwordOf.notify,
    });
    try {
      await expect(createSpentLinks(notify, 1).spend(randomUUID())).rejects.toThrow(/unavailable/i);
      await waitFor(() => violations().some((l) => l.includes('KV_parley_email_links')), {
        timeoutMs: 3000,
        what: 'the server logging the refused bucket',
      });
    } finally {
      await notify.drain();
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('the permission table matches the services’ code', () => {
  const catalogue = new Set([...Object.keys(rpcCatalog), ...Object.keys(eventCatalog)]);
  for (const service of natsServices) {
    it(`${service} uses exactly the subjects it is granted`, () => {
      const used = new Set<string>();
      for (const file of sourceFiles(path.join(repoRoot, 'services', service, 'src'))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/'([a-z]+\.[a-z_.]+)'/g)) {
          if (catalogue.has(m[1]!)) used.add(m[1]!);
        }
      }
      const own = new Set<string>([...servedBy(service), ...publishedBy(service)]);
      const granted = new Set<string>([
        ...natsAccess[service].requests,
        ...natsAccess[service].subscribes,
        ...Object.values(natsAccess[service].consumes).flat(),
      ]);
      for (const s of own) granted.delete(s);
      const foreign = [...used].filter((s) => !own.has(s)).sort();
      expect(foreign).toEqual([...granted].sort());
    });
  }
});
