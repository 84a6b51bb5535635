// Sign-in through the local test issuer (auth/oidctest): its dev-only token endpoint
// hands out a JWT for a demo identity, signed with the key the API finds in the issuer's
// JWKS. A real provider replaces this file: see the README ("With a real provider").

/** A demo identity the issuer offers. */
export interface Identity {
  sub: string;
  name: string;
  description?: string;
}

export interface Session {
  token: string;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
  identity: Identity;
}

async function json<T>(resp: Response, what: string): Promise<T> {
  const body = await resp.text();
  if (!resp.ok) {
    let reason = body;
    try {
      const e = JSON.parse(body);
      reason = e.error_description || e.error || body;
    } catch {
      /* not JSON: keep the text */
    }
    throw new Error(`${what}: ${resp.status} ${reason}`.trim());
  }
  return JSON.parse(body) as T;
}

export async function listIdentities(issuerURL: string): Promise<Identity[]> {
  const resp = await fetch(`${issuerURL}/dev/identities`);
  return (await json<{ identities: Identity[] }>(resp, 'the issuer\'s identities')).identities;
}

export async function signIn(issuerURL: string, identity: Identity): Promise<Session> {
  const resp = await fetch(`${issuerURL}/dev/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub: identity.sub }),
  });
  const t = await json<{ access_token: string; token_type: string; expires_in: number }>(resp, 'sign-in');
  return { token: t.access_token, expiresAt: Date.now() + t.expires_in * 1000, identity };
}

const KEY = 'rc-web-example.session';

/** The session kept for this tab (sessionStorage: gone when the tab closes). */
export function savedSession(issuerURL: string): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null') as (Session & { issuerURL: string }) | null;
    if (s && s.issuerURL === issuerURL && s.expiresAt > Date.now() + 30_000) return s;
  } catch {
    /* ignore a damaged entry */
  }
  return null;
}

export function saveSession(issuerURL: string, s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify({ ...s, issuerURL }));
  else sessionStorage.removeItem(KEY);
}
