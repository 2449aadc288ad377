/**
 * The per-service NATS users, against a real nats-server started with the generated config:
 * each service can serve, request, publish and subscribe what its table grants, and the server
 * refuses what it does not. Also: the table matches the subjects each service's source uses.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventCatalog, rpcCatalog } from '@parley/contracts/nats';
import {
  natsAccess,
  natsServices,
  publishedBy,
  servedBy,
  type NatsService,
} from '@parley/contracts/nats-permissions';
import { repoRoot, startNatsServer, waitFor, type ManagedProcess } from '@parley/runtime/testing';
import {
  generateNatsPasswords,
  natsServerEnv,
  renderNatsAuthorization,
} from '../../scripts/lib/nats-config.ts';

let nats: ManagedProcess;
const conns = {} as Record<NatsService, NatsConnection>;

beforeAll(async () => {
  const passwords = generateNatsPasswords();
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
