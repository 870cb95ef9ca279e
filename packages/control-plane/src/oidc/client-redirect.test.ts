import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { checkClientRedirect } from './browser-flow.js';

const dashboard = 'http://127.0.0.1:7700/sign-in/callback';

test("the CLI's listener at /callback and the dashboard's own page are the only hand-off places", () => {
  assert.equal(
    checkClientRedirect('http://127.0.0.1:53682/callback', dashboard),
    'http://127.0.0.1:53682/callback',
  );
  assert.equal(checkClientRedirect(dashboard, dashboard), dashboard);
  for (const refused of [
    // A runner gateway's shared port on this machine: a member's page would get the code.
    'http://127.0.0.1:7701/ports/env_aaaaaaaaaaaaaaaa/8001/callback',
    'http://127.0.0.1:53682/callback/',
    'http://127.0.0.1:53682/other',
    'http://127.0.0.1:53682/callback?next=x',
    'http://127.0.0.1:53682/callback#x',
    'http://127.0.0.1/callback',
    'http://localhost:53682/callback',
    'https://127.0.0.1:53682/callback',
    'http://user@127.0.0.1:53682/callback',
    'http://127.0.0.1:7700/sign-in/callback?x=1',
    'not a url',
  ]) {
    assert.throws(
      () => checkClientRedirect(refused, dashboard),
      (error: unknown) => error instanceof HangarError && error.code === 'invalid_request',
      refused,
    );
  }
});
