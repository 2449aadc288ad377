import { api } from '#lib/api.ts';
import type { PageLoad } from './$types';

export const load = (async () => ({ emails: await api.outbox() })) satisfies PageLoad;
