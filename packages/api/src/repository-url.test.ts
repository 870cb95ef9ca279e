import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repositoryBaseName, repositoryUrlProblem } from './repository-url.js';

test('accepts every form git clones from', () => {
  for (const url of [
    'https://example.invalid/org/repo.git',
    'http://127.0.0.1:8080/repo',
    'ssh://git@example.invalid/org/repo.git',
    'git@example.invalid:org/repo.git',
    'git://127.0.0.1/repo',
    'file:///srv/git/repo.git',
    '/srv/git/repo',
  ]) {
    assert.equal(repositoryUrlProblem(url), null, url);
  }
});

test('refuses credentials, transport helpers, options and junk', () => {
  const cases: [string, RegExp][] = [
    ['https://user:pw@example.invalid/r', /user name or password/],
    ['https://ghp_token@example.invalid/r', /user name or password/],
    ['ext::sh -c id', /transport helper|spaces/],
    ['fd::3', /transport helper/],
    ['--upload-pack=x', /start with "-"/],
    ['ftp://example.invalid/r', /scheme ftp/],
    ['relative/path', /not a URL or path/],
    ['https://a b', /spaces/],
  ];
  for (const [url, pattern] of cases) {
    assert.match(repositoryUrlProblem(url) ?? '', pattern, url);
  }
});

test('names the workspace after the repository', () => {
  assert.equal(repositoryBaseName('https://example.invalid/org/my-repo.git'), 'my-repo');
  assert.equal(repositoryBaseName('git@example.invalid:org/thing'), 'thing');
  assert.equal(repositoryBaseName('/srv/git/demo/'), 'demo');
  assert.equal(repositoryBaseName('/'), 'workspace');
});
