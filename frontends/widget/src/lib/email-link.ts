/**
 * The email's "Open the conversation" link (`/widget/?open=1&link=<token>`): the token is
 * exchanged once for the session of the visitor the email went to, stored where the chat
 * resumes from, and removed from the address. Works in a browser that never saw the widget.
 */
import { ApiError } from '@parley/chat-client/errors';
import { createApiClient } from './api.ts';
import { rememberVisitor } from './visitor-session.ts';

export type EmailLinkOutcome = 'none' | 'restored' | 'spent' | 'expired' | 'invalid';

const linkParam = 'link';

export async function openEmailLink(origin: string): Promise<EmailLinkOutcome> {
  const url = new URL(location.href);
  const token = url.searchParams.get(linkParam);
  if (!token) return 'none';
  // Spent on first use: a reload must not present it again.
  url.searchParams.delete(linkParam);
  history.replaceState(history.state, '', url);
  try {
    const session = await createApiClient(origin, () => null).openEmailLink({ token });
    rememberVisitor(session.visitor, session.token, true);
    return 'restored';
  } catch (error) {
    if (!(error instanceof ApiError)) return 'invalid';
    const reason = error.details?.reason;
    if (reason === 'spent' || reason === 'expired') return reason;
    return 'invalid';
  }
}
