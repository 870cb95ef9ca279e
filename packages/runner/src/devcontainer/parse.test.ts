import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { parseDevcontainer } from './parse.js';

const path = '/repo/.devcontainer/devcontainer.json';

function parse(text: string): Record<string, unknown> {
  return parseDevcontainer({ text, path });
}

/** Asserts the text fails to parse at the given place, with a message naming file and place. */
function assertInvalidAt(text: string, line: number, column: number, what: RegExp): HangarError {
  let caught: unknown;
  try {
    parse(text);
  } catch (error: unknown) {
    caught = error;
  }
  assert.ok(caught instanceof HangarError, 'throws a HangarError');
  assert.equal(caught.code, 'devcontainer_invalid');
  assert.deepStrictEqual(caught.details, { path, line, column });
  assert.ok(caught.message.includes(path), caught.message);
  assert.ok(caught.message.includes(`line ${line}, column ${column}`), caught.message);
  assert.match(caught.message, what);
  return caught;
}

void test('comments, trailing commas and a missing final newline are accepted', () => {
  const text = [
    '/* header',
    ' * block */',
    '{',
    '  // a line comment',
    '  "image": "debian", /* inline */',
    '  "runArgs": ["--init",],',
    '  "containerEnv": { "A": "1", },',
    '}',
  ].join('\n');

  assert.deepStrictEqual(parse(text), {
    image: 'debian',
    runArgs: ['--init'],
    containerEnv: { A: '1' },
  });
});

void test('// and /* inside strings stay data', () => {
  const text = '{ "image": "ghcr.io/x//y", "postCreateCommand": "echo /* not */ // a comment" }';

  const config = parse(text);

  assert.equal(config.image, 'ghcr.io/x//y');
  assert.equal(config.postCreateCommand, 'echo /* not */ // a comment');
});

void test('a repeated key keeps its first position and takes its last value', () => {
  const text = '{ "a": 1, "features": { "x": {}, "y": {}, "x": { "v": 2 } }, "b": 2, "a": 3 }';

  const config = parse(text);

  assert.deepStrictEqual(Object.keys(config), ['a', 'features', 'b']);
  assert.equal(config.a, 3);
  assert.deepStrictEqual(config.features, { x: { v: 2 }, y: {} });
  assert.deepStrictEqual(Object.keys(config.features as object), ['x', 'y']);
});

void test('a byte order mark at the start is ignored', () => {
  assert.deepStrictEqual(parse('\uFEFF{ "image": "x" }'), { image: 'x' });
});

void test('a "__proto__" key is kept as data and changes no prototype', () => {
  const config = parse('{ "__proto__": { "polluted": true }, "customizations": {} }');

  assert.equal(Object.getPrototypeOf(config), Object.prototype);
  assert.ok(Object.hasOwn(config, '__proto__'));
  assert.equal((config as { polluted?: unknown }).polluted, undefined);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});

void test('a missing comma is reported at the next entry', () => {
  const text = '{\n  "image": "x"\n  "remoteUser": "y"\n}';

  const error = assertInvalidAt(text, 3, 3, /expected a comma/);

  assert.match(error.message, /found `"remoteUser"`/);
});

void test('line and column count CRLF line ends once', () => {
  assertInvalidAt('{\r\n  "a": "x"\r\n  "b": 2\r\n}', 3, 3, /expected a comma/);
});

void test('an unterminated string is reported where it starts', () => {
  assertInvalidAt('{\n  "image": "abc\n}', 2, 12, /string is not closed/);
});

void test('a file cut short is reported at its end', () => {
  assertInvalidAt('{\n  "image": "x",\n', 3, 1, /end of the file/);
});

void test('an unclosed block comment is reported', () => {
  assertInvalidAt('{ "a": "b" /* never closed ', 1, 12, /block comment is not closed/);
});

void test('an unquoted property name is reported', () => {
  assertInvalidAt('{\n  image: "x"\n}', 2, 3, /unexpected character/);
});

void test('a bad escape and a raw control character in a string are reported', () => {
  assertInvalidAt('{ "a": "\\q" }', 1, 8, /invalid escape/);
  assertInvalidAt('{ "a": "x\ty" }', 1, 8, /control character/);
});

void test('text after the top-level object is reported', () => {
  assertInvalidAt('{ "a": 1 }\n}', 2, 1, /unexpected character|end of the file/);
});

void test('an empty file or one with only comments is malformed', () => {
  assertInvalidAt('', 1, 1, /expected a value/);
  assertInvalidAt('// nothing here\n', 2, 1, /expected a value/);
});

void test('a top-level value that is not an object is refused', () => {
  assertInvalidAt('[{ "image": "x" }]', 1, 1, /must hold one JSON object .* an array/);
  assertInvalidAt('\n  "x"', 2, 3, /a string/);
  assertInvalidAt('null', 1, 1, /null/);
  assertInvalidAt('42', 1, 1, /a number/);
});
