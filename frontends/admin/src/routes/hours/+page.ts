import { api } from '#lib/api.ts';
import type { PageLoad } from './$types';

export const load = (async () => ({ hours: await api.businessHours() })) satisfies PageLoad;
