import { api } from '#lib/api.ts';
import type { PageLoad } from './$types';

export const load = (async () => ({ visitors: await api.onlineVisitors() })) satisfies PageLoad;
