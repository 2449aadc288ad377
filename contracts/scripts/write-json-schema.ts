/**
 * Writes JSON Schema for every contract to docs/contracts/: models, WebSocket frames, REST bodies,
 * NATS RPC requests/replies and events, Agenda jobs, and the embed postMessage shapes.
 * Schemas describe the wire (input side: what a sender may put on it).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import * as models from '../src/models.ts';
import * as ws from '../src/ws.ts';
import * as http from '../src/http.ts';
import * as nats from '../src/nats.ts';
import * as jobs from '../src/jobs.ts';
import * as embed from '../src/embed.ts';
import * as errors from '../src/errors.ts';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/contracts');

function toSchema(schema: z.core.$ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'inline' });
}

function schemasOf(mod: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(mod)) {
    if (value instanceof z.core.$ZodType) result[name] = toSchema(value);
  }
  return result;
}

export function buildAll(): Record<string, unknown> {
  const rpc: Record<string, unknown> = {};
  for (const [subject, def] of Object.entries(nats.rpcCatalog)) {
    rpc[subject] = { request: toSchema(def.request), reply: toSchema(nats.rpcReply(def.response)) };
  }
  const events: Record<string, unknown> = {};
  for (const [subject, schema] of Object.entries(nats.eventCatalog))
    events[subject] = toSchema(schema);
  const jobSchemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(jobs.jobCatalog)) jobSchemas[name] = toSchema(schema);
  return {
    'models.json': schemasOf(models),
    'ws.json': schemasOf(ws),
    'http.json': schemasOf(http),
    'nats-rpc.json': rpc,
    'nats-events.json': events,
    'jobs.json': jobSchemas,
    'embed.json': schemasOf(embed),
    'errors.json': {
      ...schemasOf(errors),
      WsCloseCode: errors.WsCloseCode,
      httpStatusByErrorCode: errors.httpStatusByErrorCode,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const [file, content] of Object.entries(buildAll())) {
    writeFileSync(path.join(out, file), `${JSON.stringify(content, null, 2)}\n`);
  }
  console.log(`wrote JSON Schema to ${path.relative(process.cwd(), out)}/`);
}
