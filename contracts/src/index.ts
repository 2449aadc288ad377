export * from './errors.ts';
export * from './ids.ts';
export * from './models.ts';
export * as ws from './ws.ts';
export * as http from './http.ts';
export * as nats from './nats.ts';
export * as jobs from './jobs.ts';
export * as embed from './embed.ts';
export * as attachments from './attachments.ts';
