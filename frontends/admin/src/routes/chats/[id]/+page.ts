import { error } from '@sveltejs/kit';
import { ChatId } from '@parley/contracts';
import { api } from '#lib/api.ts';
import { ApiError } from '@parley/chat-client/errors';
import { t } from '#lib/strings.ts';
import type { PageLoad } from './$types';

/** Loading the chat also marks it viewed by the operator, server-side (docs/PRODUCT.md). */
export const load = (async ({ params }) => {
  const chatId = ChatId.safeParse(params.id);
  if (!chatId.success) error(404, t.chatNotFound);
  try {
    const [chat, session] = await Promise.all([
      api.getChat(chatId.data),
      api.session(chatId.data).catch((err: unknown) => {
        // The chat is readable without routing; the header then shows no session.
        console.warn('routing session unavailable', err);
        return null;
      }),
    ]);
    return { chat, session };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'not_found') error(404, t.chatNotFound);
    throw err;
  }
}) satisfies PageLoad;
