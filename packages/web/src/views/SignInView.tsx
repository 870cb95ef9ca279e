import { useId, type FormEvent } from 'react';

export interface SignInViewProps {
  busy: boolean;
  error: string | null;
  onSignIn: (token: string) => void;
}

/** Sign in with an API token, as `hangar up` prints it or `hangar token create` makes it. */
export function SignInView({ busy, error, onSignIn }: SignInViewProps) {
  const tokenId = useId();
  const errorId = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const token = new FormData(event.currentTarget).get('token');
    if (typeof token === 'string' && token.trim()) onSignIn(token.trim());
  };
  return (
    <main className="sign-in">
      <h1>Sign in to Hangar</h1>
      <form onSubmit={submit} aria-describedby={error ? errorId : undefined}>
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
        {error ? (
          <p id={errorId} className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}
