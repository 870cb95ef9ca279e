import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toNumberedPlaceholders } from './placeholders.js';

describe('toNumberedPlaceholders', () => {
  it('numbers placeholders in order', () => {
    assert.equal(
      toNumberedPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)'),
      'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
    );
  });

  it('leaves a statement without placeholders unchanged', () => {
    assert.equal(toNumberedPlaceholders('SELECT 1'), 'SELECT 1');
  });

  it('skips question marks inside string literals, doubled quotes included', () => {
    assert.equal(
      toNumberedPlaceholders("SELECT 'why?', 'it''s ?' , ? FROM t"),
      "SELECT 'why?', 'it''s ?' , $1 FROM t",
    );
  });

  it('skips escape strings, whose backslash escapes a quote', () => {
    assert.equal(toNumberedPlaceholders("SELECT E'a\\'?', ?"), "SELECT E'a\\'?', $1");
  });

  it('treats a backslash in a plain string as a character', () => {
    assert.equal(toNumberedPlaceholders("SELECT 'a\\', ?"), "SELECT 'a\\', $1");
  });

  it('skips quoted identifiers', () => {
    assert.equal(
      toNumberedPlaceholders('SELECT "odd?name" FROM t WHERE x = ?'),
      'SELECT "odd?name" FROM t WHERE x = $1',
    );
  });

  it('skips line and nested block comments', () => {
    const sql = 'SELECT ? -- a comment?\n, /* outer ? /* inner ? */ still ? */ ?';
    assert.equal(
      toNumberedPlaceholders(sql),
      'SELECT $1 -- a comment?\n, /* outer ? /* inner ? */ still ? */ $2',
    );
  });

  it('skips dollar-quoted strings, tagged or not', () => {
    assert.equal(
      toNumberedPlaceholders('SELECT $$?$$, $body$ ? $$ ? $body$, ?'),
      'SELECT $$?$$, $body$ ? $$ ? $body$, $1',
    );
  });

  it('does not read an existing $1 as a dollar quote', () => {
    assert.equal(toNumberedPlaceholders('SELECT $1, ?'), 'SELECT $1, $1');
  });

  it('keeps an unterminated literal as it is', () => {
    assert.equal(toNumberedPlaceholders("SELECT ?, 'open ?"), "SELECT $1, 'open ?");
  });
});
