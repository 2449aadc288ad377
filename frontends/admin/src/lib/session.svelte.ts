import { http } from '@parley/contracts';

/** The signed-in operator, kept in localStorage so a reload stays signed in until the token expires. */
const STORAGE_KEY = 'parley.admin.session';
/** Set when a session ran out in this tab; survives reloads until the next sign-in. */
const EXPIRED_KEY = 'parley.admin.expired';

export type OperatorSession = http.LoginResponse;

/** The stored session; `expired` when one was stored but its token has run out. */
function readStored(): { session: OperatorSession | null; expired: boolean } {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return { session: null, expired: sessionStorage.getItem(EXPIRED_KEY) === '1' };
    const parsed = http.LoginResponse.safeParse(JSON.parse(raw));
    if (!parsed.success || Date.parse(parsed.data.expires_at) <= Date.now()) {
      localStorage.removeItem(STORAGE_KEY);
      if (parsed.success) sessionStorage.setItem(EXPIRED_KEY, '1');
      return { session: null, expired: sessionStorage.getItem(EXPIRED_KEY) === '1' };
    }
    return { session: parsed.data, expired: false };
  } catch {
    return { session: null, expired: sessionStorage.getItem(EXPIRED_KEY) === '1' };
  }
}

export const auth = $state<{ session: OperatorSession | null; expired: boolean }>(readStored());

export function saveSession(session: OperatorSession): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  auth.session = session;
  auth.expired = false;
  sessionStorage.removeItem(EXPIRED_KEY);
}

export function clearSession(): void {
  localStorage.removeItem(STORAGE_KEY);
  auth.session = null;
}

/** The current token, or null when signed out or expired (which also signs out). */
export function currentToken(): string | null {
  const s = auth.session;
  if (!s) return null;
  if (Date.parse(s.expires_at) <= Date.now()) {
    clearSession();
    markExpired();
    return null;
  }
  return s.token;
}

export function isAdmin(): boolean {
  return auth.session?.operator.role === 'admin';
}

/** The server refused the token (expired or revoked): the login page says so. */
export function markExpired(): void {
  auth.expired = true;
  sessionStorage.setItem(EXPIRED_KEY, '1');
}
