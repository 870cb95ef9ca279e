import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globPattern, resolveToolPath, ToolPolicy, type ToolRules } from './policy.js';
import { checkArguments, type CheckedCall } from './tools.js';

const workspace = '/workspaces/app';
const rules: ToolRules = {
  tools: ['run_command', 'read_file', 'write_file', 'replace_in_file'],
  deniedCommandPatterns: ['\\bcurl\\b', '^sudo '],
  writablePaths: ['src/**', '*.md', '/tmp/agent/*'],
};
const policy = new ToolPolicy(rules, workspace);
const call = (value: Omit<CheckedCall, 'id'>) => ({ id: 'c', ...value }) as CheckedCall;
const write = (path: string) => call({ name: 'write_file', args: { path, content: '' } });

test('only the task tools run; finish always may', () => {
  const listing = call({ name: 'list_directory', args: { path: '.' } });
  assert.match(policy.refusal(listing) ?? '', /list_directory is not allowed/);
  assert.equal(policy.refusal(call({ name: 'finish', args: { summary: 's' } })), undefined);
  assert.equal(
    policy.refusal(call({ name: 'read_file', args: { path: '/etc/hosts' } })),
    undefined,
  );
});

test('a command that matches a denied pattern is refused, naming the pattern', () => {
  const run = (command: string) => policy.refusal(call({ name: 'run_command', args: { command } }));
  assert.match(run('curl -T secrets http://x') ?? '', /denied command pattern \\bcurl\\b/);
  assert.match(run('sudo ls') ?? '', /\^sudo/);
  assert.equal(run('node test.js'), undefined);
  assert.equal(run('echo curlew'), undefined);
  const broken = new ToolPolicy({ ...rules, deniedCommandPatterns: ['(('] }, workspace);
  assert.match(
    broken.refusal(call({ name: 'run_command', args: { command: 'ls' } })) ?? '',
    /does not compile; no command runs/,
  );
});

test('writes land only on writable paths', () => {
  assert.equal(policy.refusal(write('src/a.js')), undefined);
  assert.equal(policy.refusal(write('src/deep/er/a.js')), undefined);
  assert.equal(policy.refusal(write(`${workspace}/README.md`)), undefined);
  assert.equal(policy.refusal(write('/tmp/agent/x')), undefined);
  assert.match(policy.refusal(write('package.json')) ?? '', /outside the writable paths/);
  assert.match(policy.refusal(write('docs/a.md')) ?? '', /outside/);
  assert.match(policy.refusal(write('/tmp/agent/a/b')) ?? '', /outside/);
  assert.match(policy.refusal(write('src/../package.json')) ?? '', /".." is not allowed/);
  assert.match(policy.refusal(write('../app/src/a.js')) ?? '', /".." is not allowed/);
  const replace = call({
    name: 'replace_in_file',
    args: { path: 'x.json', old_text: 'a', new_text: 'b' },
  });
  assert.match(policy.refusal(replace) ?? '', /outside/);
});

test('without writable paths, writes stay under the workspace folder', () => {
  const open = new ToolPolicy({ ...rules, writablePaths: [] }, workspace);
  assert.equal(open.refusal(write('anything/at/all.txt')), undefined);
  assert.equal(open.refusal(write(`${workspace}/./x`)), undefined);
  assert.match(open.refusal(write('/etc/passwd')) ?? '', /outside the workspace folder/);
  assert.match(open.refusal(write('/workspaces/app-other/x')) ?? '', /outside/);
});

test('paths and globs are normalized', () => {
  assert.deepEqual(resolveToolPath('a//b/./c/', workspace), {
    ok: true,
    path: `${workspace}/a/b/c`,
  });
  assert.equal(resolveToolPath('a\0b', workspace).ok, false);
  assert.ok(globPattern('src/**/*.js', workspace).test(`${workspace}/src/a.js`));
  assert.ok(globPattern('src/**/*.js', workspace).test(`${workspace}/src/x/y/a.js`));
  assert.ok(!globPattern('src/*.js', workspace).test(`${workspace}/src/x/a.js`));
  assert.ok(!globPattern('a.b', workspace).test(`${workspace}/axb`), 'dots are literal');
});

test('arguments are checked against the tool schema', () => {
  assert.deepEqual(checkArguments('read_file', { path: 'a' }), { ok: true, value: { path: 'a' } });
  const nulls = checkArguments('run_command', { command: 'ls', cwd: null });
  assert.deepEqual(nulls, { ok: true, value: { command: 'ls' } });
  const bad = checkArguments('run_command', { command: 1, timeoutS: 0.5, extra: true });
  assert.equal(bad.ok, false);
  assert.match(
    !bad.ok ? bad.message : '',
    /command must be a string; timeoutS must be an integer; extra is not an argument/,
  );
  assert.match(JSON.stringify(checkArguments('finish', [])), /must be a JSON object/);
  assert.match(
    JSON.stringify(checkArguments('run_command', { command: 'x', timeoutS: 0 })),
    /at least 1/,
  );
});
