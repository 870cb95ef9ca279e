import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HangarError } from '@hangar/api';

import { checkRefName, parseLsRemote, resolveRef } from './refs.js';

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);
const c = 'c'.repeat(40);
const d = 'd'.repeat(40);

const listing = [
  'ref: refs/heads/trunk\tHEAD',
  `${a}\tHEAD`,
  `${a}\trefs/heads/trunk`,
  `${b}\trefs/heads/feature/x/y`,
  `${b}\trefs/heads/same`,
  `${c}\trefs/tags/same`,
  `${d}\trefs/tags/v1`,
  `${a}\trefs/tags/v1^{}`,
  `${c}\trefs/pull/7/head`,
  '',
].join('\n');

void describe('parseLsRemote', () => {
  void it('reads the default branch and peels annotated tags', () => {
    const refs = parseLsRemote(listing);
    assert.equal(refs.defaultBranch, 'trunk');
    assert.equal(refs.commits.get('refs/tags/v1'), a);
    assert.equal(refs.commits.get('refs/heads/feature/x/y'), b);
  });
});

void describe('resolveRef', () => {
  const refs = parseLsRemote(listing);

  void it('finds branches with slashes, tags, full ref names and commit ids', () => {
    assert.deepEqual(resolveRef(undefined, refs), { kind: 'default' });
    assert.deepEqual(resolveRef('feature/x/y', refs), {
      kind: 'branch',
      name: 'feature/x/y',
      fullName: 'refs/heads/feature/x/y',
    });
    assert.deepEqual(resolveRef('v1', refs), { kind: 'tag', name: 'v1', fullName: 'refs/tags/v1' });
    assert.deepEqual(resolveRef('refs/pull/7/head', refs), {
      kind: 'commit',
      spec: c,
      fetchRef: 'refs/pull/7/head',
      fullName: 'refs/pull/7/head',
    });
    assert.deepEqual(resolveRef('ABCDEF1', refs), { kind: 'commit', spec: 'abcdef1' });
    assert.deepEqual(resolveRef(b, refs), { kind: 'commit', spec: b, fetchRef: b });
  });

  void it('prefers the branch over a tag of the same name; refs/tags/ reaches the tag', () => {
    assert.equal(resolveRef('same', refs)?.kind, 'branch');
    assert.deepEqual(resolveRef('refs/tags/same', refs), {
      kind: 'commit',
      spec: c,
      fetchRef: 'refs/tags/same',
      fullName: 'refs/tags/same',
    });
  });

  void it('returns undefined for a name nothing matches', () => {
    assert.equal(resolveRef('nope', refs), undefined);
    assert.equal(resolveRef('refs/heads/nope', refs), undefined);
    assert.equal(resolveRef('abc', refs), undefined);
  });
});

void describe('checkRefName', () => {
  void it('accepts ordinary names', () => {
    for (const ref of ['main', 'feature/x/y', 'v1.2.3', 'refs/tags/v1', 'abc123', 'a-b_c+d']) {
      checkRefName(ref);
    }
  });

  void it('refuses option-like and malformed names', () => {
    for (const ref of ['', '-b', '--upload-pack=x', 'a b', 'a..b', 'a:b', 'x^', 'x~1', 'a\nb']) {
      assert.throws(() => checkRefName(ref), HangarError, JSON.stringify(ref));
    }
    for (const ref of ['/a', 'a/', 'a.lock', 'a//b', 'a@{1}', 'a.']) {
      assert.throws(() => checkRefName(ref), HangarError, JSON.stringify(ref));
    }
  });
});
