import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import {
  credentialSearchPath,
  hangarHome,
  readCredentialsFile,
  resolveCredentials,
  writeCredentialsFile,
  type StoredCredentials,
} from './credentials.js';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-creds-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fresh(name: string) {
  const base = join(root, name);
  const cwd = join(base, 'cwd');
  const homeDir = join(base, 'home');
  await mkdir(cwd, { recursive: true });
  await mkdir(homeDir, { recursive: true });
  return { base, cwd, homeDir };
}

async function place(path: string, token: string, mode = 0o600): Promise<StoredCredentials> {
  const credentials = { controlPlaneUrl: `http://127.0.0.1:1/${token}`, token, orgId: 'org_x' };
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(credentials), { mode });
  await chmod(path, mode);
  return credentials;
}

function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HangarError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('credential lookup', () => {
  it('takes flags first, then HANGAR_TOKEN and HANGAR_URL, without reading any file', async () => {
    const { cwd, homeDir } = await fresh('flags');
    await place(join(cwd, '.hangar', 'credentials.json'), 'file', 0o644);
    const io = {
      cwd,
      homeDir,
      env: { HANGAR_TOKEN: 'env-token', HANGAR_URL: 'http://127.0.0.1:2' },
    };
    const fromFlags = await resolveCredentials(io, { token: 'flag', url: 'http://127.0.0.1:3/' });
    assert.equal(fromFlags.token, 'flag');
    assert.equal(fromFlags.controlPlaneUrl, 'http://127.0.0.1:3');
    assert.equal(fromFlags.tokenSource, '--token');
    const fromEnv = await resolveCredentials(io, {});
    assert.equal(fromEnv.token, 'env-token');
    assert.equal(fromEnv.controlPlaneUrl, 'http://127.0.0.1:2');
    assert.equal(fromEnv.urlSource, 'HANGAR_URL');
  });

  it('searches HANGAR_CREDENTIALS, HANGAR_HOME, ./.hangar, then XDG_CONFIG_HOME', async () => {
    const { base, cwd, homeDir } = await fresh('order');
    const explicit = join(base, 'explicit.json');
    const home = join(base, 'hangar-home');
    const xdg = join(base, 'xdg');
    const env = { HANGAR_CREDENTIALS: explicit, HANGAR_HOME: home, XDG_CONFIG_HOME: xdg };
    const io = { cwd, homeDir, env };
    assert.deepEqual(credentialSearchPath(io), [
      explicit,
      join(home, 'credentials.json'),
      join(cwd, '.hangar', 'credentials.json'),
      join(xdg, 'hangar', 'credentials.json'),
    ]);
    await place(join(xdg, 'hangar', 'credentials.json'), 'xdg');
    assert.equal(
      (await resolveCredentials({ ...io, env: { XDG_CONFIG_HOME: xdg } }, {})).token,
      'xdg',
    );
    await place(join(cwd, '.hangar', 'credentials.json'), 'local');
    assert.equal(
      (await resolveCredentials({ ...io, env: { XDG_CONFIG_HOME: xdg } }, {})).token,
      'local',
    );
    await place(join(home, 'credentials.json'), 'home');
    const fromHome = await resolveCredentials({ ...io, env: { HANGAR_HOME: home } }, {});
    assert.equal(fromHome.token, 'home');
    assert.equal(fromHome.orgId, 'org_x');
    assert.equal(fromHome.tokenSource, join(home, 'credentials.json'));
    await place(explicit, 'explicit');
    assert.equal((await resolveCredentials(io, {})).token, 'explicit');
  });

  it('falls back to ~/.config/hangar when XDG_CONFIG_HOME is unset', async () => {
    const { cwd, homeDir } = await fresh('dotconfig');
    await place(join(homeDir, '.config', 'hangar', 'credentials.json'), 'dotconfig');
    const found = await resolveCredentials({ cwd, homeDir, env: {} }, {});
    assert.equal(found.token, 'dotconfig');
  });

  it('mixes sources: a token from the environment with the URL from the file', async () => {
    const { cwd, homeDir } = await fresh('mixed');
    await place(join(cwd, '.hangar', 'credentials.json'), 'file');
    const found = await resolveCredentials({ cwd, homeDir, env: { HANGAR_TOKEN: 'env' } }, {});
    assert.equal(found.token, 'env');
    assert.equal(found.controlPlaneUrl, 'http://127.0.0.1:1/file');
  });

  it('says to run hangar up or set HANGAR_TOKEN when nothing is found', async () => {
    const { cwd, homeDir } = await fresh('none');
    await rejectsWith(
      resolveCredentials({ cwd, homeDir, env: {} }, {}),
      'unauthenticated',
      /no API token: run `hangar up`.*set HANGAR_TOKEN/,
    );
    await rejectsWith(
      resolveCredentials({ cwd, homeDir, env: { HANGAR_TOKEN: 't' } }, {}),
      'unauthenticated',
      /no control plane URL: pass --url or set HANGAR_URL/,
    );
  });

  it('refuses a HANGAR_CREDENTIALS path that does not exist', async () => {
    const { base, cwd, homeDir } = await fresh('explicit-missing');
    await place(join(cwd, '.hangar', 'credentials.json'), 'local');
    const env = { HANGAR_CREDENTIALS: join(base, 'nope.json') };
    await rejectsWith(
      resolveCredentials({ cwd, homeDir, env }, {}),
      'unauthenticated',
      /HANGAR_CREDENTIALS names .*nope\.json/,
    );
  });

  it('refuses a file open to group or others, naming the chmod that fixes it', async () => {
    const { cwd, homeDir } = await fresh('mode');
    const path = join(cwd, '.hangar', 'credentials.json');
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602]) {
      await place(path, 'open', mode);
      await rejectsWith(
        resolveCredentials({ cwd, homeDir, env: {} }, {}),
        'forbidden',
        new RegExp(`mode 0${mode.toString(8)}.*chmod 600 ${path.replace(/[.]/g, '\\.')}`),
      );
    }
    await chmod(path, 0o600);
    assert.equal((await readCredentialsFile(path)).token, 'open');
    await chmod(path, 0o400);
    assert.equal((await readCredentialsFile(path)).token, 'open');
  });

  it('refuses a file that is not JSON or has the wrong fields', async () => {
    const { cwd } = await fresh('bad-file');
    const path = join(cwd, 'credentials.json');
    await writeFile(path, '{ not json', { mode: 0o600 });
    await rejectsWith(readCredentialsFile(path), 'invalid_request', /is not JSON/);
    await writeFile(path, JSON.stringify({ token: '', extra: 1, controlPlaneUrl: 'x' }));
    await rejectsWith(
      readCredentialsFile(path),
      'invalid_request',
      /token must be a non-empty string; orgId must be .*; extra is not a known field/,
    );
    await writeFile(path, '[]');
    await rejectsWith(readCredentialsFile(path), 'invalid_request', /must be a JSON object/);
  });

  it('refuses a control plane URL that is not http or https', async () => {
    const { cwd, homeDir } = await fresh('bad-url');
    await rejectsWith(
      resolveCredentials({ cwd, homeDir, env: {} }, { token: 't', url: 'ftp://x' }),
      'invalid_request',
      /from --url must be an http:\/\/ or https:\/\/ URL/,
    );
  });
});

describe('writeCredentialsFile', () => {
  it('writes mode 0600 in a 0700 directory, also over an open file', async () => {
    const { base } = await fresh('write');
    const path = join(base, 'new-home', 'credentials.json');
    const credentials = {
      controlPlaneUrl: 'http://127.0.0.1:7700',
      token: 'hgt_x',
      orgId: 'org_y',
    };
    await writeCredentialsFile(path, credentials);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(base, 'new-home'))).mode & 0o777, 0o700);
    assert.deepEqual(await readCredentialsFile(path), credentials);
    await chmod(path, 0o644);
    await writeCredentialsFile(path, { ...credentials, token: 'hgt_new' });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await readCredentialsFile(path)).token, 'hgt_new');
  });
});

describe('hangarHome', () => {
  it('is HANGAR_HOME, or ./.hangar under the working directory', () => {
    assert.equal(hangarHome({ cwd: '/w', env: {} }), '/w/.hangar');
    assert.equal(hangarHome({ cwd: '/w', env: { HANGAR_HOME: 'h' } }), '/w/h');
    assert.equal(hangarHome({ cwd: '/w', env: { HANGAR_HOME: '/abs' } }), '/abs');
  });
});
