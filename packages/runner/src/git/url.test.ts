import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HangarError } from '@hangar/api';

import { cloneFailureReason } from './errors.js';
import { maskSecrets, parseRepositoryUrl } from './url.js';

function refusal(input: string): HangarError {
  try {
    parseRepositoryUrl(input);
  } catch (error: unknown) {
    assert.ok(error instanceof HangarError);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(input)} to be refused`);
}

void describe('parseRepositoryUrl', () => {
  void it('takes the password out of an https URL and keeps it as the embedded credential', () => {
    const repo = parseRepositoryUrl('https://alice:s3cr%40t@example.test:8443/org/repo.git');
    assert.equal(repo.transport, 'https');
    assert.equal(repo.url, 'https://alice@example.test:8443/org/repo.git');
    assert.deepEqual(repo.embedded, { username: 'alice', password: 's3cr@t' });
    assert.deepEqual(repo.credentialTarget, { protocol: 'https', host: 'example.test:8443' });
  });

  void it('keeps a URL without user info as it is', () => {
    const repo = parseRepositoryUrl('http://127.0.0.1:9/repo');
    assert.equal(repo.url, 'http://127.0.0.1:9/repo');
    assert.equal(repo.embedded, undefined);
  });

  void it('reads ssh URLs, scp-like addresses, git://, file:// and absolute paths', () => {
    assert.equal(parseRepositoryUrl('ssh://git@host.test:22/r.git').transport, 'ssh');
    assert.equal(parseRepositoryUrl('git+ssh://host.test/r.git').transport, 'ssh');
    const scp = parseRepositoryUrl('git@host.test:org/repo.git');
    assert.deepEqual(scp, { transport: 'ssh', url: 'git@host.test:org/repo.git' });
    assert.equal(parseRepositoryUrl('git://127.0.0.1:9418/repo').transport, 'git');
    assert.deepEqual(parseRepositoryUrl('file:///srv/git/my%20repo'), {
      transport: 'file',
      url: 'file:///srv/git/my%20repo',
      localPath: '/srv/git/my repo',
    });
    assert.deepEqual(parseRepositoryUrl('/srv/git/repo:with-colon'), {
      transport: 'local',
      url: '/srv/git/repo:with-colon',
      localPath: '/srv/git/repo:with-colon',
    });
  });

  void it('strips a password from an ssh URL too', () => {
    assert.equal(parseRepositoryUrl('ssh://u:pw@host.test/r').url, 'ssh://u@host.test/r');
  });

  void it('refuses transport helpers such as ext:: and fd::', () => {
    for (const input of ['ext::sh -c touch% /tmp/pwned', 'fd::3', 'http::x', 'testgit::/r']) {
      const error = refusal(input);
      assert.equal(cloneFailureReason(error), 'protocol_refused', input);
      assert.match(error.message, /can run commands/);
    }
  });

  void it('refuses schemes outside the allowed list', () => {
    const error = refusal('ftp://host.test/repo');
    assert.equal(cloneFailureReason(error), 'protocol_refused');
    assert.match(error.message, /http, https, ssh, git, file/);
  });

  void it('refuses relative paths, option-like input, control characters and empty input', () => {
    for (const input of ['repo', './repo', '-uhack', '--upload-pack=x', '', '/a\nb']) {
      assert.equal(cloneFailureReason(refusal(input)), 'invalid_url', JSON.stringify(input));
    }
  });

  void it('refuses option-like hosts, encoded control characters and bad escapes', () => {
    for (const input of [
      'ssh://-oProxyCommand=x/r',
      '-oProxyCommand=x:r',
      'https://u:p%0a@host.test/r',
      'https://u:%zz@host.test/r',
      'https:///no-host',
      'file://other-host/r',
    ]) {
      assert.equal(cloneFailureReason(refusal(input)), 'invalid_url', input);
    }
  });

  void it('never puts the password in a refusal message', () => {
    const error = refusal('https://u:hunter2-secret@host.test:99999/r');
    assert.doesNotMatch(error.message, /hunter2-secret/);
  });
});

void describe('maskSecrets', () => {
  void it('masks each secret, its percent-encoded form and URL user info passwords', () => {
    const text = "fatal: unable to access 'https://bob:p%40ss@h/': p@ss rejected, other://x:y@z";
    assert.equal(
      maskSecrets(text, ['p@ss']),
      "fatal: unable to access 'https://bob:***@h/': *** rejected, other://x:***@z",
    );
  });

  void it('ignores empty secrets', () => {
    assert.equal(maskSecrets('nothing here', ['']), 'nothing here');
  });
});
