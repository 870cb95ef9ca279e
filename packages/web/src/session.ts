// Known gap: the API token is kept in sessionStorage and sent as a bearer token, so a script
// injected into the page could read it. The issue asks for an HttpOnly, SameSite=Strict session
// cookie with CSRF protection on every state-changing request; that needs a session endpoint on
// the control plane, which this slice does not add.
const key = 'hangar.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(key);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(key, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(key);
}
