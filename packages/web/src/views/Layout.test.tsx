import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignore, markup } from '../testing/markup.js';
import { homeOf, Layout } from './Layout.js';

const layout = (role: Parameters<typeof Layout>[0]['role'], current = '/') =>
  markup(
    <Layout role={role} userId="usr_aaaaaaaaaaaaaaaa" current={current} onSignOut={ignore}>
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
  assert.equal(homeOf('owner'), '/');
  assert.equal(homeOf('auditor'), '/audit');
});
