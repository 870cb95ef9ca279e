import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markup } from '../testing/markup.js';
import { ConnectHelp, vscodeLinkOf } from './ConnectHelp.js';

test('connect: hangar ssh, the SSH config and a VS Code link to the workspace', () => {
  const html = markup(<ConnectHelp name="alpha" workspaceFolder="/workspaces/alpha" />);
  assert.match(html, /<code>hangar ssh alpha<\/code>/);
  assert.match(
    html,
    /<code>hangar ssh-config --write<\/code> once, then <code>ssh alpha.hangar<\/code>/,
  );
  assert.match(
    html,
    /<a href="vscode:\/\/vscode-remote\/ssh-remote\+alpha.hangar\/workspaces\/alpha">Open alpha in VS Code<\/a>/,
  );
});

test('connect: before the environment has run there is no folder to link to', () => {
  const html = markup(<ConnectHelp name="alpha" workspaceFolder={undefined} />);
  assert.doesNotMatch(html, /vscode:/);
  assert.match(html, /connect to the host alpha.hangar/);
});

test('the VS Code link escapes what a URL cannot hold', () => {
  assert.equal(
    vscodeLinkOf('beta', '/workspaces/my repo'),
    'vscode://vscode-remote/ssh-remote+beta.hangar/workspaces/my%20repo',
  );
});
