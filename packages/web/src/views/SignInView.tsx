import { useId, type FormEvent } from 'react';

export interface SignInViewProps {
  busy: boolean;
  error: string | null;
  onToken: (token: string) => void;
  onProvider: (org: string | undefined) => void;
}

/**
 * Sign in at the organization's OpenID provider, or with an API token (`hangar up` writes one;
 * `hangar token create` makes more). Either way the page gets an HttpOnly session cookie.
 */
export function SignInView({ busy, error, onToken, onProvider }: SignInViewProps) {
  const tokenId = useId();
  const orgId = useId();
  const errorId = useId();
  const withToken = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const token = new FormData(event.currentTarget).get('token');
    if (typeof token === 'string' && token.trim()) onToken(token.trim());
  };
  const withProvider = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const org = new FormData(event.currentTarget).get('org');
    onProvider(typeof org === 'string' && org.trim() ? org.trim() : undefined);
  };
  return (
    <main className="sign-in" id="content">
      <h1>Sign in to Hangar</h1>
      {error ? (
        <p id={errorId} className="error" role="alert">
          {error}
        </p>
      ) : null}
      <form onSubmit={withToken} aria-describedby={error ? errorId : undefined}>
        <h2>With an API token</h2>
        <label htmlFor={tokenId}>API token</label>
        <input
          id={tokenId}
          name="token"
          type="password"
          autoComplete="off"
          required
          aria-invalid={error ? true : undefined}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <form onSubmit={withProvider}>
        <h2>With your identity provider</h2>
        <label htmlFor={orgId}>Organization (optional when there is one)</label>
        <input id={orgId} name="org" type="text" autoComplete="organization" />
        <button type="submit" disabled={busy}>
          Sign in with single sign-on
        </button>
      </form>
    </main>
  );
}
