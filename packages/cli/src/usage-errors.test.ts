import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from './main.js';
import { captureIo } from './testing/capture-io.js';

/** Credentials that point nowhere: each of these must fail before any request. */
const env = { HANGAR_URL: 'http://127.0.0.1:9', HANGAR_TOKEN: 'hgr_unused' };

const roles = 'owner, admin, member, auditor, runner-admin';

const cases: [string[], RegExp][] = [
  [
    ['member', 'add', '--issuer', 'https://idp.test', '--subject', 's', '--role', 'superuser'],
    new RegExp(`the role must be one of ${roles}, got "superuser"`),
  ],
  [
    ['member', 'set-role', 'usr_aaaaaaaaaaaaaaaa', 'superuser'],
    new RegExp(`the role must be one of ${roles}, got "superuser"`),
  ],
  [
    ['env', 'exec', 'demo', '--break-glass', '', '--', 'true'],
    /--break-glass needs a reason of at least 10 characters/,
  ],
  [
    ['env', 'exec', 'demo', '--break-glass', ' too short ', '--', 'true'],
    /--break-glass needs a reason of at least 10 characters/,
  ],
  [
    ['env', 'exec', 'demo', '--break-glass', 'x'.repeat(1001), '--', 'true'],
    /--break-glass takes a reason of at most 1000 characters/,
  ],
  [['secret', 'set', 'TLS', '--file', 'relative.txt'], /--file must be an absolute path/],
  [['secret', 'set', 'TOKEN', '--env-var', 'LD_PRELOAD'], /--env-var LD_PRELOAD is set by/],
  [['secret', 'set', 'PATH'], /--env-var \(the secret name\) PATH is set by/],
];

test('flags checked by the CLI are usage errors (exit 2) that name the flag', async () => {
  for (const [argv, message] of cases) {
    const io = captureIo({ env });
    const code = await main(argv, io);
    const stderr = io.stderr.text();
    assert.equal(code, 2, `${argv.join(' ')}: ${stderr}`);
    assert.match(stderr, message, argv.join(' '));
    assert.doesNotMatch(stderr, /cannot reach|breakGlassReason|target must/, argv.join(' '));
  }
});
