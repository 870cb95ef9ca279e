import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignore, markup } from '../testing/markup.js';
import { homeOf, Layout } from './Layout.js';

const everyScope = [
  'environments:read',
  'environments:write',
  'environments:exec',
  'audit:read',
  'runners:admin',
  'org:admin',
];

const layout = (
  role: Parameters<typeof Layout>[0]['role'],
  current = '/',
  scopes: string[] = everyScope,
) =>
  markup(
    <Layout
      role={role}
      scopes={scopes}
      userId="usr_aaaaaaaaaaaaaaaa"
      current={current}
      onSignOut={ignore}
    >
      <h1>Page</h1>
    </Layout>,
  );

const links = (html: string) => [...html.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1]);

test('each role sees the pages of its work; the current one is marked', () => {
  assert.deepEqual(links(layout('owner')), ['/', '/agents', '/audit', '/runners', '/org']);
  assert.deepEqual(links(layout('auditor')), ['/audit']);
  assert.deepEqual(links(layout('member')), ['/', '/agents', '/org']);
  assert.deepEqual(links(layout('runner-admin')), ['/', '/runners', '/org']);
  assert.match(layout('owner', '/environments/env_x'), /<a href="\/" aria-current="page">/);
  assert.match(layout('owner', '/audit'), /<a href="\/audit" aria-current="page">Audit/);
});

test('a skip link leads to the main content; who is signed in is shown', () => {
  const html = layout('admin');
  assert.match(html, /^<a class="skip-link" href="#content">Skip to content<\/a>/);
  assert.match(html, /<main id="content" tabindex="-1"><h1>Page<\/h1><\/main>/);
  assert.match(html, /usr_aaaaaaaaaaaaaaaa<\/code> \(admin\)/);
  assert.match(html, /<nav aria-label="Pages">/);
});

test('the first page after sign-in is the first page the role may use', () => {
  assert.equal(homeOf({ role: 'owner', scopes: everyScope }), '/');
  assert.equal(homeOf({ role: 'auditor', scopes: everyScope }), '/audit');
  assert.equal(homeOf({ role: 'owner', scopes: ['audit:read'] }), '/audit');
});

test('a token with fewer scopes is offered only the pages it can read', () => {
  assert.deepEqual(links(layout('owner', '/audit', ['audit:read'])), ['/audit']);
  assert.deepEqual(links(layout('admin', '/', ['environments:read'])), [
    '/',
    '/agents',
    '/runners',
    '/org',
  ]);
});
