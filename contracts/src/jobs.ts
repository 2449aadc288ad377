import * as z from 'zod/mini';
import { ChatId } from './ids.ts';
import { positiveInt } from './int.ts';

/** Agenda job names and their data, parsed when a job runs. */
export const jobCatalog = {
  /** Unread-reply email for one chat (one pending job per chat; replies push it back). */
  'unread-reply-email': z.object({
    chat_id: ChatId,
    /** Newest operator message seq the email covers. */
    up_to_seq: positiveInt(),
  }),
} as const;
export type JobName = keyof typeof jobCatalog;
export type JobData<N extends JobName> = z.output<(typeof jobCatalog)[N]>;
