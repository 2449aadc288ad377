import { SignJWT, jwtVerify } from 'jose';

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
