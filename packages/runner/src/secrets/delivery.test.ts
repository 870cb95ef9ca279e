import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { memoryFileProblem } from '../providers/sandbox/spec-check.js';
import { gitCredentialForClone, gitHelperEnv, parseGitTarget } from './git-delivery.js';
import { maskingLogger } from './log-masking.js';
import { Masker } from './masker.js';
import type { OpenedSecret } from './open.js';
import { SecretStore } from './store.js';

function secret(extra: Partial<OpenedSecret>): OpenedSecret {
  return {
    id: 'sec_aaaaaaaaaaaaaaaa',
    name: 'TOKEN',
    scope: 'org',
    scopeId: '',
    version: 1,
    delivery: 'env',
    target: 'TOKEN',
    value: Buffer.from('delivery-canary-55e1'),
    ...extra,
  };
}

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => lines.join('') };
}

test('every runner log line is masked at the writer, bindings and errors included', () => {
  const { logger, text } = capture();
  const value = 'log-canary-"9f\\x';
  const masked = maskingLogger(logger, () => new Masker([Buffer.from(value)]));
  const child = masked.child({ runnerId: 'run_1', bound: value });
  child.info({ detail: `a ${value} b`, err: new Error(`failed with ${value}`) }, `msg ${value}`);
  child.debug(Buffer.from(value).toString('base64'));
  const out = text();
  assert.ok(!out.includes(value) && !out.includes(JSON.stringify(value).slice(1, -1)));
  assert.ok(!out.includes(Buffer.from(value).toString('base64').slice(0, 12)));
  const [first] = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(first?.['msg'], 'msg ***');
  assert.equal(first?.['detail'], 'a *** b');
  assert.equal(first?.['runnerId'], 'run_1');
  assert.equal(first?.['level'], 30);
});

test('the store hands env secrets and git helpers over, names short values, forgets', () => {
  const store = new SecretStore();
  const short = store.hold('env_1', [
    secret({}),
    secret({ name: 'PIN', target: 'PIN', value: Buffer.from('123') }),
    secret({
      name: 'GIT',
      delivery: 'git',
      target: 'git.example.com',
      value: Buffer.from('git-pass\n'),
    }),
  ]);
  assert.equal(store.envOf('env_1')['TOKEN'], 'delivery-canary-55e1');
  assert.equal(store.envOf('env_1')['GIT_CONFIG_COUNT'], '1');
  assert.equal(
    store.envOf('env_1')['GIT_CONFIG_KEY_0'],
    'credential.https://git.example.com.helper',
  );
  assert.deepEqual(
    short.map((item) => item.name),
    ['PIN'],
  );
  assert.equal(store.masker().maskText('x delivery-canary-55e1 123'), 'x *** 123');
  assert.equal(store.masker().maskText('password=git-pass\n'), 'password=***');
  assert.equal(store.masker().maskText('url https://git-pass@x'), 'url https://***@x');
  store.forget('env_1');
  assert.equal(store.size, 0);
  assert.ok(store.masker().empty);
  assert.deepEqual(store.envOf('env_1'), {});
});

test('a git secret is bound to its host: https, and http only on loopback', () => {
  assert.deepEqual(parseGitTarget('git.example.com:8443'), {
    host: 'git.example.com:8443',
    protocols: ['https'],
  });
  assert.deepEqual(parseGitTarget('127.0.0.1:9000')?.protocols, ['https', 'http']);
  assert.equal(parseGitTarget('http://x.example'), undefined);
  assert.equal(parseGitTarget('a b'), undefined);
  const secrets = [
    secret({ delivery: 'git', target: 'git.example.com', value: Buffer.from('pw\n') }),
  ];
  assert.deepEqual(gitCredentialForClone(secrets, 'https://git.example.com/o/r.git'), {
    username: 'x-access-token',
    password: 'pw',
  });
  assert.equal(gitCredentialForClone(secrets, 'http://git.example.com/o/r.git'), undefined);
  assert.equal(gitCredentialForClone(secrets, 'https://other.example.com/o/r.git'), undefined);
  assert.equal(gitCredentialForClone(secrets, 'ssh://git@git.example.com/o/r.git'), undefined);
  const helper = gitHelperEnv(secrets);
  assert.ok(!JSON.stringify(helper).includes('pw'), 'the variables hold no secret');
});

test('file secrets go outside the workspace and what the sandbox provides', () => {
  const where = { workspaceFolder: '/workspaces/repo', home: '/home/dev' };
  assert.equal(memoryFileProblem('/run/secrets/token', where), undefined);
  assert.equal(memoryFileProblem('/home/dev/.npmrc', where), undefined);
  assert.equal(memoryFileProblem('/opt/app/key.pem', where), undefined);
  for (const bad of [
    '/workspaces/repo/.env',
    '/etc/passwd',
    '/run/hangar/envd.json',
    '/usr/bin/git',
    'relative',
    '/run/secrets/../x',
    '/home/dev',
    '/tmp',
  ]) {
    assert.ok(memoryFileProblem(bad, where), bad);
  }
});
