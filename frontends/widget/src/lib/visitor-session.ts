/**
 * The visitor's identity: resumed from localStorage when it can be, signed by the host site
 * when it says who the user is, otherwise a new anonymous visitor.
 */
import type { WidgetSettings } from '@parley/contracts/embed';
import { ApiError } from '@parley/chat-client/errors';
import type { ApiClient } from './api.ts';
import { readStored, removeStored, writeStored } from './storage.ts';

interface StoredVisitor {
  visitor_id: string;
  token: string;
  chat_started: boolean;
}

const visitorKey = 'parley.visitor';

function isStoredVisitor(value: unknown): value is StoredVisitor {
  const v = value as StoredVisitor | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.visitor_id === 'string' &&
    typeof v.token === 'string' &&
    typeof v.chat_started === 'boolean'
  );
}

export type VisitorSession = Awaited<ReturnType<ApiClient['createSession']>>;

/** A session for this browser, and whether its chat has started (else the pre-chat form shows). */
export async function openVisitorSession(
  api: ApiClient,
  settings: WidgetSettings,
): Promise<{ session: VisitorSession; chatStarted: boolean }> {
  const stored = readStored(visitorKey, isStoredVisitor);
  const session = await createSession(api, settings, stored);
  const chatStarted =
    (stored?.visitor_id === session.visitor.id && stored.chat_started) ||
    session.visitor.identified ||
    session.visitor.name !== null;
  return { session, chatStarted };
}

async function createSession(
  api: ApiClient,
  settings: WidgetSettings,
  stored: StoredVisitor | null,
): Promise<VisitorSession> {
  const user = settings.user;
  if (user) {
    return api.createSession({
      user_id: user.user_id,
      user_hash: user.user_hash,
      ...(user.name ? { name: user.name } : {}),
      ...(user.email ? { email: user.email } : {}),
    });
  }
  if (stored) {
    try {
      return await api.createSession({ visitor_id: stored.visitor_id, token: stored.token });
    } catch (error) {
      // An expired or foreign token cannot be resumed: start as a new visitor.
      if (!(error instanceof ApiError) || error.status < 400 || error.status >= 500) throw error;
      removeStored(visitorKey);
    }
  }
  return api.createSession({});
}

/** Keeps an anonymous visitor's token for the next page view (identified ones sign in again). */
export function rememberVisitor(
  visitor: { id: string; identified: boolean },
  token: string,
  chatStarted: boolean,
): void {
  if (visitor.identified) return;
  writeStored(visitorKey, {
    visitor_id: visitor.id,
    token,
    chat_started: chatStarted,
  } satisfies StoredVisitor);
}
