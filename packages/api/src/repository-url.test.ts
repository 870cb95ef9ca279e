import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalRepositoryUrl,
  repositoryBaseName,
  repositoryUrlProblem,
  splitRepositoryUrl,
} from './repository-url.js';

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

test('refuses addresses that git would read as another repository than the policy sees', () => {
  const cases: [string, RegExp][] = [
    ['https://git.example.test/acme/../evil/repo.git', /"\.\." segments/],
    ['https://git.example.test/acme/%2e%2e/evil/repo.git', /%2e/],
    ['https://git.example.test/acme/%2E./evil', /%2e/],
    ['https://git.example.test/acme/./repo', /"\." or "\.\."/],
    ['https://git.example.test/acme/a%2fb', /encode a slash/],
    ['https://evil.invalid?.example.test/x.git', /query/],
    ['https://evil.invalid#.example.test/x.git', /fragment/],
    ['https://git.example.test/r.git?ref=x', /query/],
    ['https://git.example.test\\@evil.invalid/r', /backslash/],
    ['https://git%2eexample.test/r', /host/],
    ['git@git.example.test:acme/../evil.git', /segments/],
    ['file:///srv/git/..', /segments/],
    ['/srv/git/../../home/victim/repo', /"\.\." segments/],
  ];
  for (const [url, pattern] of cases) {
    assert.match(repositoryUrlProblem(url) ?? '', pattern, url);
  }
  assert.equal(repositoryUrlProblem('https://git.example.test:8443/acme/repo.git'), null);
  assert.equal(repositoryUrlProblem('ssh://git@[::1]:2222/srv/repo.git'), null);
  assert.equal(repositoryUrlProblem('/srv/git/./team//repo/'), null);
});

test('canonical form: scheme and host lower-case, local paths normalized, the rest kept', () => {
  const cases: [string, string][] = [
    ['HTTPS://Git.Example.TEST/Acme/Repo.git', 'https://git.example.test/Acme/Repo.git'],
    ['ssh://Git@Host.TEST:22/Srv/R', 'ssh://Git@host.test:22/Srv/R'],
    ['Git@Host.TEST:Acme/R.git', 'Git@host.test:Acme/R.git'],
    ['/srv/git/./team//repo/', '/srv/git/team/repo'],
    ['file:///srv/git/Repo', 'file:///srv/git/Repo'],
  ];
  for (const [url, canonical] of cases) {
    assert.equal(canonicalRepositoryUrl(url), canonical, url);
    assert.equal(canonicalRepositoryUrl(canonical), canonical, `${canonical} stays as it is`);
  }
  assert.deepEqual(splitRepositoryUrl('https://git.example.test:8443/a/b'), {
    prefix: 'https://',
    authority: 'git.example.test:8443',
    path: '/a/b',
  });
});
