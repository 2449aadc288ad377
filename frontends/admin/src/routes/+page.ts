import { redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import type { PageLoad } from './$types';

export const load = (() => {
  redirect(307, resolve('/chats'));
}) satisfies PageLoad;
