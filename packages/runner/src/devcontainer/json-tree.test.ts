import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTree } from 'jsonc-parser';
import { effectiveProperties, lineColumnAt, nodeToValue, setOwn } from './json-tree.js';

void test('lineColumnAt counts LF, CRLF and lone CR line ends, 1-based', () => {
  const text = 'ab\ncd\r\nef\rgh';

  assert.deepStrictEqual(lineColumnAt(text, 0), { line: 1, column: 1 });
  assert.deepStrictEqual(lineColumnAt(text, 2), { line: 1, column: 3 });
  assert.deepStrictEqual(lineColumnAt(text, 3), { line: 2, column: 1 });
  assert.deepStrictEqual(lineColumnAt(text, 7), { line: 3, column: 1 });
  assert.deepStrictEqual(lineColumnAt(text, 10), { line: 4, column: 1 });
  assert.deepStrictEqual(lineColumnAt(text, 99), { line: 4, column: 3 });
});

void test('setOwn defines a data property, even for __proto__', () => {
  const target: Record<string, unknown> = { a: 1, b: 2 };

  setOwn(target, '__proto__', { evil: true });
  setOwn(target, 'a', 3);

  assert.equal(Object.getPrototypeOf(target), Object.prototype);
  assert.deepStrictEqual(Object.keys(target), ['a', 'b', '__proto__']);
  assert.equal(target.a, 3);
});

void test('nodeToValue builds plain values with the last of repeated keys', () => {
  const root = parseTree('{ "a": [1, "x", null, true, {}], "b": 1, "a": { "c": 2 } }');
  assert.ok(root);

  const value = nodeToValue(root);

  assert.deepStrictEqual(value, { a: { c: 2 }, b: 1 });
  assert.deepStrictEqual([...effectiveProperties(root).keys()], ['a', 'b']);
});
