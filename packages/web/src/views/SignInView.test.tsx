import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import { SignInView } from './SignInView.js';

const view = (busy: boolean, error: string | null) =>
  markup(<SignInView busy={busy} error={error} onToken={ignore} onProvider={ignore} />);

test('sign in: a token form and a single sign-on form, labelled, no error until one is given', () => {
  const html = view(false, null);
  assert.match(html, /<h1>Sign in to Hangar<\/h1>/);
  assert.match(html, /type="password"/);
  assert.match(html, />Sign in with single sign-on</);
  assert.doesNotMatch(html, /role="alert"/);
  assertLabelled(html);
});

test('sign in: busy disables both buttons, an error is announced', () => {
  const busy = view(true, null);
  assert.match(busy, /<button type="submit" disabled="">Signing in…<\/button>/);
  assert.match(busy, /<button type="submit" disabled="">Sign in with single sign-on<\/button>/);
  const refused = view(false, 'The token was refused: token expired');
  assert.match(refused, /role="alert">The token was refused: token expired</);
  assert.match(refused, /aria-invalid="true"/);
});
