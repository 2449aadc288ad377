import { randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';

/**
 * Signed unsubscribe links (notify signs, the gateway verifies): work without login,
 * never expire on their own, and name one visitor only.
 */
export async function signUnsubscribeToken(secret: string, userId: string): Promise<string> {
  return new SignJWT({ purpose: 'unsubscribe' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .sign(new TextEncoder().encode(secret));
}

/** Returns the visitor's user id, or null when the token is forged, malformed or for another purpose. */
export async function verifyUnsubscribeToken(
  secret: string,
  token: string,
): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
    });
    return payload.purpose === 'unsubscribe' && typeof payload.sub === 'string'
      ? payload.sub
      : null;
  } catch {
    return null;
  }
}

/**
 * The email's "Open the conversation" link (notify signs, the gateway exchanges it once for a
 * visitor session): names one visitor and chat, expires, and carries an id (jti) the gateway
 * records when it is spent.
 */
export async function signChatLinkToken(
  secret: string,
  link: { userId: string; chatId: string; ttlMs: number },
): Promise<string> {
  return new SignJWT({ purpose: 'chat_link', chat: link.chatId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(link.userId)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(new Date(Date.now() + link.ttlMs))
    .sign(new TextEncoder().encode(secret));
}

export type ChatLinkCheck =
  | { ok: true; userId: string; chatId: string; jti: string; expiresAt: Date }
  | { ok: false; reason: 'expired' | 'invalid' };

export async function verifyChatLinkToken(secret: string, token: string): Promise<ChatLinkCheck> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
    });
    if (
      payload.purpose !== 'chat_link' ||
      typeof payload.sub !== 'string' ||
      typeof payload.chat !== 'string' ||
      typeof payload.jti !== 'string' ||
      typeof payload.exp !== 'number'
    )
      return { ok: false, reason: 'invalid' };
    return {
      ok: true,
      userId: payload.sub,
      chatId: payload.chat,
      jti: payload.jti,
      expiresAt: new Date(payload.exp * 1000),
    };
  } catch (err) {
    return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
