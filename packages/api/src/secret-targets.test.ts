import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from './errors.js';
import {
  checkSecretTarget,
  secretTargetProblem,
  secretValueProblem,
  type SecretPlacement,
} from './secret-targets.js';

const env = (target: string): SecretPlacement => ({ scope: 'org', delivery: 'env', target });
const file = (scope: SecretPlacement['scope'], target: string): SecretPlacement => ({
  scope,
  delivery: 'file',
  target,
});
const git = (target: string): SecretPlacement => ({ scope: 'user', delivery: 'git', target });

test('variables the runtime owns, or that run code or steer tools, are refused in any case', () => {
  const refused = [
    'PATH',
    'home',
    'BASH_ENV',
    'ENV',
    'PROMPT_COMMAND',
    'PS4',
    'IFS',
    'LD_PRELOAD',
    'LD_AUDIT',
    'ld_library_path',
    'GCONV_PATH',
    'MALLOC_CHECK_',
    'NODE_OPTIONS',
    'npm_config_registry',
    'PYTHONSTARTUP',
    'PERL5OPT',
    'RUBYOPT',
    'JAVA_TOOL_OPTIONS',
    '_JAVA_OPTIONS',
    'GIT_CONFIG_COUNT',
    'GIT_CONFIG_KEY_0',
    'GIT_SSH_COMMAND',
    'GIT_ASKPASS',
    'SSH_AUTH_SOCK',
    'HANGAR_ENVD_TOKEN',
    'https_proxy',
    'NO_PROXY',
    'XDG_CONFIG_HOME',
    'PAGER',
  ];
  for (const name of refused) {
    assert.ok(secretTargetProblem(env(name)), `${name} accepted`);
  }
  for (const name of ['NPM_TOKEN', 'GITHUB_TOKEN', 'DB_PASSWORD', 'api_key', 'PATHWAY_KEY']) {
    assert.equal(secretTargetProblem(env(name)), undefined, name);
  }
  assert.match(secretTargetProblem(env('1ABC')) ?? '', /variable name/);
  assert.match(secretTargetProblem(env('HANGAR_X')) ?? '', /runtime/);
});

test('org and project files go under /run/secrets/ only; a user file anywhere else safe', () => {
  for (const scope of ['org', 'project'] as const) {
    assert.equal(secretTargetProblem(file(scope, '/run/secrets/tls.pem')), undefined);
    for (const target of ['/home/dev/.npmrc', '/home/dev/.bashrc', '/tmp/x', '/run/secrets/']) {
      assert.ok(secretTargetProblem(file(scope, target)), `${scope} ${target} accepted`);
    }
    assert.match(secretTargetProblem(file(scope, '/opt/x')) ?? '', /under \/run\/secrets\//);
  }
  for (const target of ['/home/dev/.npmrc', '/run/secrets/t', '/opt/tool/key', '/tmp/key']) {
    assert.equal(secretTargetProblem(file('user', target)), undefined, target);
  }
  const refused = [
    '/proc/self/environ',
    '/sys/x',
    '/dev/shm/x',
    '/run/hangar/git-credentials/0',
    '/run/hangar/envd.json',
    '/run/other',
    '/etc/passwd',
    '/usr/local/bin/git',
    '/workspaces/repo/.env',
    '/home/dev',
    '/tmp',
    '/home/dev/.bashrc',
    '/home/dev/.profile',
    '/home/dev/.bash_profile',
    '/home/dev/.zshrc',
    '/home/dev/.gitconfig',
    '/home/dev/.config/git/config',
    '/home/dev/.ssh/config',
    '/root/.bashrc',
    'relative/path',
    '/a/../b',
    '/a//b',
    '/a/./b',
    '/a/',
    '/a\nb',
  ];
  for (const target of refused) {
    assert.ok(secretTargetProblem(file('user', target)), `${JSON.stringify(target)} accepted`);
  }
});

test('git targets are [user@]host[:port]', () => {
  for (const target of [
    'git.example.com',
    'git.internal:8443',
    '127.0.0.1:9',
    'deploy@git.example.com',
    'a%40b@git.example.com',
    '[::1]:3000',
  ]) {
    assert.equal(secretTargetProblem(git(target)), undefined, target);
  }
  for (const target of [
    'https://git.example.com',
    'git.example.com/org',
    'host:0',
    'host:70000',
    'a b',
    'x%0apassword=y@host',
    'x%ZZ@host',
    '-bad.example.com',
  ]) {
    assert.ok(secretTargetProblem(git(target)), `${target} accepted`);
  }
});

test('checkSecretTarget refuses with invalid_request naming the field target', () => {
  checkSecretTarget(env('NPM_TOKEN'));
  try {
    checkSecretTarget(env('LD_PRELOAD'));
    assert.fail('LD_PRELOAD accepted');
  } catch (error) {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.fields?.[0]?.field, 'target');
    assert.match(error.message, /^target LD_PRELOAD .*pick another variable name$/);
  }
});

test('a variable cannot hold NUL; a git credential is one line; files take any bytes', () => {
  assert.match(secretValueProblem('env', Buffer.from('a\0b')) ?? '', /NUL byte.*--file/);
  assert.equal(secretValueProblem('env', Buffer.from('plain value\n')), undefined);
  assert.equal(secretValueProblem('git', Buffer.from('token\n')), undefined);
  assert.match(secretValueProblem('git', Buffer.from('a\nb')) ?? '', /one line/);
  assert.equal(secretValueProblem('file', Buffer.from([0, 1, 2, 255])), undefined);
});
