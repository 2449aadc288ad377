import { api } from '#lib/api.ts';
import type { PageLoad } from './$types';

export const load = (async () => ({ operators: await api.listOperators() })) satisfies PageLoad;
