import {
  eventCatalog,
  rpcCatalog,
  streams,
  type EventSubject,
  type KvBucket,
  type RpcSubject,
} from './nats.ts';

/**
 * Who may use which NATS subject. Every service connects as its own NATS user, and the server
 * refuses any subject that user was not granted, so a pod that is not Parley (or a compromised
 * service) cannot call another service's RPCs or read chat events it has no use for.
 *
 * What a service serves and publishes follows from the subject names (`<service>.rpc.*`,
 * `<service>.evt.*`, `gateway.*` signals); what it requests, subscribes to and consumes from
 * JetStream is listed here. Both sides are subjects of the catalogue (checked by the compiler),
 * and the services' sources are checked against this table by a test, so neither can drift.
 */
export const natsServices = ['gateway', 'chat', 'routing', 'notify'] as const;
export type NatsService = (typeof natsServices)[number];
export type StreamName = keyof typeof streams;

export interface NatsServiceAccess {
  /** RPCs this service calls. */
  requests: readonly RpcSubject[];
  /** Events it reads with plain (core NATS) subscriptions. */
  subscribes: readonly EventSubject[];
  /** Events it reads through JetStream consumers (durable or ordered), by stream. */
  consumes: Partial<Record<StreamName, readonly EventSubject[]>>;
  /** NATS KV buckets it creates, reads and writes. */
  kv: readonly KvBucket[];
}

const rpcSubjects = Object.keys(rpcCatalog) as RpcSubject[];
const eventSubjects = Object.keys(eventCatalog) as EventSubject[];
const rpcOf = (service: NatsService) => rpcSubjects.filter((s) => s.startsWith(`${service}.rpc.`));

export const natsAccess: Record<NatsService, NatsServiceAccess> = {
  gateway: {
    requests: [
      ...rpcOf('chat').filter((s) => s !== 'chat.rpc.notify_claim'),
      // The whole online list in one reply is kept for older gateways only.
      ...rpcOf('routing').filter((s) => s !== 'routing.rpc.online_visitors'),
      'notify.rpc.outbox_list',
      'notify.rpc.send_transcript',
    ],
    subscribes: [
      ...eventSubjects.filter((s) => s.startsWith('chat.evt.') && s !== 'chat.evt.visitor_updated'),
      ...eventSubjects.filter(
        (s) => s.startsWith('routing.evt.') && s !== 'routing.evt.visitors_changed',
      ),
      'routing.presence.visitor',
      'gateway.typing',
    ],
    consumes: { TOKEN_REVOCATIONS: ['gateway.token_revoked'] },
    kv: ['parley_email_links'],
  },
  chat: { requests: [], subscribes: [], consumes: {}, kv: [] },
  routing: {
    requests: ['chat.rpc.operator_get', 'chat.rpc.visitor_chat', 'chat.rpc.send_message'],
    subscribes: ['gateway.evt.connection', 'gateway.evt.heartbeat', 'gateway.evt.page_view'],
    consumes: {
      CHAT_EVENTS: [
        'chat.evt.message_created',
        'chat.evt.operator_changed',
        'chat.evt.visitor_updated',
      ],
    },
    kv: [],
  },
  notify: {
    requests: ['chat.rpc.messages_after', 'chat.rpc.notify_claim', 'chat.rpc.visitor_profile'],
    subscribes: [],
    consumes: { CHAT_EVENTS: ['chat.evt.message_created', 'chat.evt.chat_read'] },
    kv: [],
  },
};

/** RPC subjects a service answers: those named after it. */
export function servedBy(service: NatsService): RpcSubject[] {
  return rpcOf(service);
}

/** Events a service publishes: those named after it (`chat.evt.*`, `gateway.*`). */
export function publishedBy(service: NatsService): EventSubject[] {
  return eventSubjects.filter((s) => s.startsWith(`${service}.`));
}

/**
 * Replaces a group of subjects with `<prefix>.*` when it holds every catalogue subject under
 * that prefix (exact today; a subject added to the catalogue later under the prefix is granted
 * with it, which is what the naming promises).
 */
function compact(subjects: readonly string[]): string[] {
  const all = [...rpcSubjects, ...eventSubjects] as string[];
  const parent = (s: string) => s.slice(0, s.lastIndexOf('.'));
  const wanted = new Set(subjects);
  const out: string[] = [];
  const done = new Set<string>();
  for (const s of subjects) {
    const p = parent(s);
    if (done.has(p)) continue;
    const siblings = all.filter((x) => parent(x) === p);
    if (siblings.length > 1 && siblings.every((x) => wanted.has(x))) {
      out.push(`${p}.*`);
      done.add(p);
    } else out.push(s);
  }
  return [...new Set(out)];
}

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** Lets a service publish the reply to a request it received (and only that reply). */
  allow_responses: boolean;
}

/**
 * The NATS permissions of one service's user. JetStream: every service creates the streams
 * idempotently at start (`$JS.API.STREAM.INFO/CREATE`); consumers are created, read and acked
 * on the streams the service consumes; replies, including the stream's publish acks, arrive on
 * the connection's own inbox (`_INBOX.>`). A KV bucket is its stream `KV_<bucket>` (info, create,
 * direct and plain message reads) and the keys it writes (`$KV.<bucket>.>`).
 */
export function natsPermissions(service: NatsService): NatsPermissions {
  const access = natsAccess[service];
  const streamApi = Object.keys(streams).flatMap((s) => [
    `$JS.API.STREAM.INFO.${s}`,
    `$JS.API.STREAM.CREATE.${s}`,
  ]);
  const consumerApi = (Object.keys(access.consumes) as StreamName[]).flatMap((s) => [
    `$JS.API.CONSUMER.CREATE.${s}`,
    `$JS.API.CONSUMER.CREATE.${s}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
    `$JS.API.CONSUMER.INFO.${s}.>`,
    `$JS.API.CONSUMER.DELETE.${s}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${s}.>`,
    `$JS.ACK.${s}.>`,
  ]);
  const kvApi = access.kv.flatMap((b) => [
    `$JS.API.STREAM.INFO.KV_${b}`,
    `$JS.API.STREAM.CREATE.KV_${b}`,
    `$JS.API.STREAM.MSG.GET.KV_${b}`,
    `$JS.API.DIRECT.GET.KV_${b}`,
    `$JS.API.DIRECT.GET.KV_${b}.>`,
    `$KV.${b}.>`,
  ]);
  return {
    publish: {
      allow: [
        ...compact([...access.requests, ...publishedBy(service)]),
        '$JS.API.INFO',
        ...streamApi,
        ...consumerApi,
        ...kvApi,
      ],
    },
    subscribe: {
      allow: [...compact([...servedBy(service), ...access.subscribes]), '_INBOX.>'],
    },
    allow_responses: true,
  };
}

/** Environment variable that holds a service's NATS password (on the server and the service). */
export function natsPasswordVar(service: NatsService): string {
  return `NATS_PASSWORD_${service.toUpperCase()}`;
}
