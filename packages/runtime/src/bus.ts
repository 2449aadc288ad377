import { connect } from '@nats-io/transport-node';
import {
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
// zod core: its types and parse functions take the contracts' zod/mini schemas (and classic ones).
import * as z from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';
import { AppError, validationError } from '@parley/contracts/errors';
import {
  eventCatalog,
  rpcCatalog,
  streams,
  type EventPayload,
  type EventSubject,
  type RpcRequest,
  type RpcRequestParsed,
  type RpcResponse,
  type RpcSubject,
} from '@parley/contracts/nats';
import type { Logger } from './logger.ts';
import { safeParseFast } from './validation.ts';

// zod/mini schemas carry no message locale (classic zod registers English on first use), and
// services send zod's messages back in error details: register English for the process explicitly.
z.config(en());

export const CORRELATION_HEADER = 'x-correlation-id';

export interface RequestContext {
  correlationId: string;
}

export type AnyEvent = {
  [S in EventSubject]: { subject: S; payload: EventPayload<S> };
}[EventSubject];

export interface Bus {
  readonly nc: NatsConnection;
  /** Typed request/reply; throws AppError (the remote's, or `unavailable` on no responder/timeout). */
  request<S extends RpcSubject>(
    subject: S,
    payload: RpcRequest<S>,
    opts?: { timeoutMs?: number; correlationId?: string },
  ): Promise<RpcResponse<S>>;
  /** Serves an RPC subject in a queue group: validates the request, maps errors to the envelope. */
  serve<S extends RpcSubject>(
    subject: S,
    handler: (req: RpcRequestParsed<S>, ctx: RequestContext) => Promise<RpcResponse<S>>,
    opts?: { queue?: string },
  ): Subscription;
  /** Core NATS publish (ephemeral signals). */
  publish<S extends EventSubject>(
    subject: S,
    payload: EventPayload<S>,
    correlationId?: string,
  ): void;
  /**
   * JetStream publish, resolved once the stream has stored it. msgId dedupes resends:
   * `duplicate` is true when the stream already held that msgId (within its duplicate window).
   */
  publishDurable<S extends EventSubject>(
    subject: S,
    payload: EventPayload<S>,
    opts?: { msgId?: string; correlationId?: string },
  ): Promise<{ duplicate: boolean }>;
  /** Plain subscription to one event subject; invalid payloads are logged and dropped. */
  subscribe<S extends EventSubject>(
    subject: S,
    handler: (payload: EventPayload<S>, ctx: RequestContext) => void | Promise<void>,
    opts?: { queue?: string },
  ): Subscription;
  /** Creates the JetStream streams if missing (idempotent), with that many replicas. */
  ensureStreams(opts?: { replicas?: number }): Promise<void>;
  /**
   * Replays a stream from its first message, then follows it live (an ephemeral ordered
   * consumer), for state that every replica rebuilds in memory. `caughtUp` resolves once the
   * replay has reached what the stream held when following began.
   */
  followStream(opts: {
    stream: keyof typeof streams;
    handler: (event: AnyEvent) => void;
  }): Promise<{ caughtUp: Promise<void>; stop(): Promise<void> }>;
  /**
   * Durable JetStream consumer: survives restarts, shared by replicas with the same name.
   * The handler's success acks; a throw naks with a delay (redelivery); an invalid payload is terminated.
   */
  consumeDurable(opts: {
    stream: keyof typeof streams;
    durable: string;
    subjects: EventSubject[];
    handler: (event: AnyEvent, ctx: RequestContext & { redelivered: boolean }) => Promise<void>;
    ackWaitMs?: number;
  }): Promise<{ stop(): Promise<void> }>;
  drain(): Promise<void>;
  isConnected(): boolean;
}

function correlationOf(h: MsgHdrs | undefined): string {
  return h?.get(CORRELATION_HEADER) || randomUUID();
}

function hdrs(correlationId: string): MsgHdrs {
  const h = natsHeaders();
  h.set(CORRELATION_HEADER, correlationId);
  return h;
}

function parseJson(data: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(data));
}

/** A JetStream message as a catalog event, or null when it is not JSON or not valid. */
function parseStoredEvent(m: JsMsg): AnyEvent | null {
  const subject = m.subject as EventSubject;
  const schema = eventCatalog[subject] as z.$ZodType | undefined;
  if (!schema) return null;
  let raw: unknown;
  try {
    raw = m.json();
  } catch {
    return null;
  }
  const parsed = safeParseFast(schema, raw);
  return parsed.success ? ({ subject, payload: parsed.data } as AnyEvent) : null;
}

export async function connectBus(opts: {
  servers: string;
  name: string;
  logger: Logger;
  /** NATS user and password (NATS_USER / NATS_PASSWORD); without them no authentication. */
  user?: string | undefined;
  pass?: string | undefined;
}): Promise<Bus> {
  const log = opts.logger.child({ module: 'bus' });
  const nc = await connect({
    servers: opts.servers.split(',').map((s) => s.trim()),
    name: opts.name,
    ...(opts.user ? { user: opts.user, pass: opts.pass ?? '' } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // Otherwise nats.js builds an Error with a stack trace for every request, in case it fails
    // (11 % of the gateway's busy time in the benchmark); our failures carry correlation ids.
    noAsyncTraces: true,
  });
  let closedCleanly = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect')
        log.warn({ status: s.type }, 'nats status');
      // E.g. a subject this service's NATS user was not granted: say so instead of timing out.
      else if (s.type === 'error') log.error({ err: s.error }, 'nats error');
    }
  })();
  void nc.closed().then((err) => {
    if (err) log.error({ err }, 'nats connection closed with error');
    else if (!closedCleanly) log.warn('nats connection closed');
  });
  let js: JetStreamClient | undefined;
  const getJs = () => (js ??= jetstream(nc));

  const bus: Bus = {
    nc,
    async request(subject, payload, ropts) {
      const correlationId = ropts?.correlationId ?? randomUUID();
      let reply: Msg;
      try {
        reply = await nc.request(subject, JSON.stringify(payload), {
          timeout: ropts?.timeoutMs ?? 5000,
          headers: hdrs(correlationId),
        });
      } catch (err) {
        log.warn({ err, subject, correlationId }, 'rpc failed');
        throw new AppError('unavailable', `Service for ${subject.split('.')[0]} is unavailable`);
      }
      const body = parseJson(reply.data) as
        | { ok: true; data: unknown }
        | {
            ok: false;
            error: { code: AppError['code']; message: string; details?: Record<string, string> };
          };
      if (!body.ok) throw new AppError(body.error.code, body.error.message, body.error.details);
      return body.data as RpcResponse<typeof subject>;
    },
    serve(subject, handler, sopts) {
      const schema: z.$ZodType = rpcCatalog[subject].request;
      return nc.subscribe(subject, {
        queue: sopts?.queue ?? subject.split('.')[0],
        callback: (err, msg) => {
          if (err) {
            log.error({ err, subject }, 'rpc subscription error');
            return;
          }
          const correlationId = correlationOf(msg.headers);
          void (async () => {
            let out: string;
            try {
              let raw: unknown;
              try {
                raw = parseJson(msg.data);
              } catch {
                throw new AppError('bad_request', 'Request is not valid JSON');
              }
              const parsed = safeParseFast(schema, raw);
              if (!parsed.success) throw validationError(parsed.error);
              const data = await handler(parsed.data as RpcRequestParsed<typeof subject>, {
                correlationId,
              });
              out = JSON.stringify({ ok: true, data });
            } catch (e) {
              const appErr = e instanceof AppError ? e : new AppError('internal', 'Internal error');
              if (!(e instanceof AppError))
                log.error({ err: e, subject, correlationId }, 'rpc handler failed');
              out = JSON.stringify({ ok: false, error: appErr.toBody() });
            }
            if (msg.reply) msg.respond(out);
          })();
        },
      });
    },
    publish(subject, payload, correlationId) {
      nc.publish(subject, JSON.stringify(payload), {
        headers: hdrs(correlationId ?? randomUUID()),
      });
    },
    async publishDurable(subject, payload, popts) {
      const ack = await getJs().publish(subject, JSON.stringify(payload), {
        headers: hdrs(popts?.correlationId ?? randomUUID()),
        ...(popts?.msgId ? { msgID: popts.msgId } : {}),
      });
      return { duplicate: ack.duplicate };
    },
    subscribe(subject, handler, subOpts) {
      const schema: z.$ZodType = eventCatalog[subject];
      return nc.subscribe(subject, {
        ...(subOpts?.queue ? { queue: subOpts.queue } : {}),
        callback: (err, msg) => {
          if (err) {
            log.error({ err, subject }, 'subscription error');
            return;
          }
          let raw: unknown;
          try {
            raw = parseJson(msg.data);
          } catch {
            log.warn({ subject }, 'dropped event: not JSON');
            return;
          }
          const parsed = safeParseFast(schema, raw);
          if (!parsed.success) {
            log.warn({ subject, issues: parsed.error.issues.slice(0, 3) }, 'dropped invalid event');
            return;
          }
          const correlationId = correlationOf(msg.headers);
          Promise.resolve(
            handler(parsed.data as EventPayload<typeof subject>, { correlationId }),
          ).catch((e: unknown) =>
            log.error({ err: e, subject, correlationId }, 'event handler failed'),
          );
        },
      });
    },
    async ensureStreams(sopts) {
      const jsm = await jetstreamManager(nc);
      for (const [name, cfg] of Object.entries(streams)) {
        try {
          await jsm.streams.info(name);
        } catch {
          try {
            await jsm.streams.add({
              name,
              subjects: [...cfg.subjects],
              num_replicas: sopts?.replicas ?? 1,
              max_age: (cfg.max_age_ms ?? 7 * 24 * 3_600_000) * 1e6,
              ...(cfg.max_bytes ? { max_bytes: cfg.max_bytes } : {}),
              duplicate_window: 2 * 60 * 1e9,
            });
          } catch (e) {
            // Another replica may have created it between info and add.
            await jsm.streams.info(name).catch(() => {
              throw e;
            });
          }
        }
      }
    },
    async followStream(fopts) {
      const jsm = await jetstreamManager(nc);
      const held = (await jsm.streams.info(fopts.stream)).state.messages;
      let markCaughtUp = () => {};
      const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
      if (held === 0) markCaughtUp();
      // No filter: these streams hold one subject each, and nats-server 2.9 (Debian's) lacks
      // the filter_subjects an ordered consumer would send.
      const consumer = await getJs().consumers.get(fopts.stream, {
        deliver_policy: DeliverPolicy.All,
      });
      const messages = await consumer.consume();
      const done = (async () => {
        for await (const m of messages) {
          const event = parseStoredEvent(m);
          if (event) {
            try {
              fopts.handler(event);
            } catch (err) {
              log.error({ err, subject: m.subject }, 'stream follower failed on an event');
            }
          } else {
            log.warn(
              { subject: m.subject, stream: fopts.stream },
              'skipped invalid event in stream',
            );
          }
          if (m.info.pending === 0) markCaughtUp();
        }
      })();
      return {
        caughtUp,
        async stop() {
          await messages.close();
          await done.catch(() => undefined);
        },
      };
    },
    async consumeDurable(copts) {
      const jsm = await jetstreamManager(nc);
      const ackWaitMs = copts.ackWaitMs ?? 30_000;
      // nats-server 2.9 (Debian's) has no filter_subjects: filter one subject on the server,
      // several in the handler (acking the rest).
      const wanted = new Set<string>(copts.subjects);
      const config = {
        durable_name: copts.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...(copts.subjects.length === 1 ? { filter_subject: copts.subjects[0] } : {}),
        ack_wait: ackWaitMs * 1e6,
        max_deliver: -1,
      };
      try {
        await jsm.consumers.info(copts.stream, copts.durable);
      } catch {
        await jsm.consumers.add(copts.stream, config).catch(async (e: unknown) => {
          await jsm.consumers.info(copts.stream, copts.durable).catch(() => {
            throw e;
          });
        });
      }
      const consumer = await getJs().consumers.get(copts.stream, copts.durable);
      const messages = await consumer.consume({ max_messages: 64 });
      const done = (async () => {
        for await (const m of messages) {
          await handleJs(m);
        }
      })();
      async function handleJs(m: JsMsg) {
        const subject = m.subject as EventSubject;
        if (!wanted.has(subject)) {
          m.ack();
          return;
        }
        const event = parseStoredEvent(m);
        if (!event) {
          log.warn({ subject }, 'terminating invalid durable event');
          m.term();
          return;
        }
        const correlationId = correlationOf(m.headers);
        try {
          await copts.handler(event, {
            correlationId,
            redelivered: m.redelivered,
          });
          m.ack();
        } catch (err) {
          log.warn({ err, subject, correlationId }, 'durable event failed, will be redelivered');
          m.nak(Math.min(30_000, 1000 * m.info.deliveryCount));
        }
      }
      return {
        async stop() {
          await messages.close();
          await done.catch(() => undefined);
        },
      };
    },
    async drain() {
      closedCleanly = true;
      if (!nc.isClosed()) await nc.drain();
    },
    isConnected() {
      return !nc.isClosed() && !nc.isDraining();
    },
  };
  return bus;
}
