import { HangarError } from '@hangar/api';
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { describeNode } from './checks.js';
import { isPlainObject, lineColumnAt, nodeToValue } from './json-tree.js';
import type { DevcontainerConfig } from './types.js';
import { validateConfigTree, type FieldProblem } from './validate.js';

export interface ParseDevcontainerOptions {
  /** The file's text. */
  text: string;
  /** The file's path, named in every error. */
  path: string;
}

const syntaxProblems: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected a colon after the property name',
  CommaExpected: 'expected a comma between two entries',
  CloseBraceExpected: 'expected a closing brace "}"',
  CloseBracketExpected: 'expected a closing bracket "]"',
  EndOfFileExpected: 'expected the end of the file after the top-level object',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'a block comment is not closed with "*/"',
  UnexpectedEndOfString: 'a string is not closed with a double quote',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'invalid \\u escape in a string',
  InvalidEscapeCharacter: 'invalid escape character in a string',
  InvalidCharacter: 'a control character inside a string (write it as an escape such as \\t)',
};

/**
 * Parses a devcontainer.json: JSON with comments and trailing commas. A malformed file, a
 * top-level value that is not an object and a field of the wrong type all throw
 * `devcontainer_invalid` naming the file, the 1-based line and column, and what is wrong.
 */
export function parseDevcontainer(options: ParseDevcontainerOptions): DevcontainerConfig {
  const text = options.text.startsWith('\uFEFF') ? options.text.slice(1) : options.text;
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const firstError = errors[0];
  if (firstError !== undefined) throw syntaxError(options.path, text, firstError);
  if (root === undefined || root.type !== 'object') throw notAnObject(options.path, text, root);

  const problems = validateConfigTree(root);
  if (problems.length > 0) throw fieldError(options.path, text, problems);
  const value = nodeToValue(root);
  if (!isPlainObject(value)) throw notAnObject(options.path, text, root);
  return value;
}

function syntaxError(path: string, text: string, error: ParseError): HangarError {
  const { line, column } = lineColumnAt(text, error.offset);
  const what = syntaxProblems[printParseErrorCode(error.error)] ?? 'invalid JSON';
  const message =
    `${path} is not valid JSON: line ${line}, column ${column}: ${what} ` +
    `(found ${describeFound(text, error)}). Fix the file and try again.`;
  return new HangarError('devcontainer_invalid', message, { details: { path, line, column } });
}

function describeFound(text: string, error: ParseError): string {
  if (error.offset >= text.length) return 'the end of the file';
  const token = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  const shown = token.length > 24 ? `${token.slice(0, 24)}...` : token;
  return `\`${JSON.stringify(shown).slice(1, -1).replaceAll('\\"', '"')}\``;
}

function notAnObject(path: string, text: string, root: Node | undefined): HangarError {
  const { line, column } = lineColumnAt(text, root?.offset ?? 0);
  const found = root === undefined ? 'nothing' : describeNode(root);
  const message =
    `${path} must hold one JSON object ({ ... }) but holds ${found}: line ${line}, ` +
    `column ${column}. Put the configuration in an object and try again.`;
  return new HangarError('devcontainer_invalid', message, { details: { path, line, column } });
}

function fieldError(path: string, text: string, problems: FieldProblem[]): HangarError {
  const [first, ...rest] = problems;
  if (first === undefined) return new HangarError('internal', 'no field problem to report');
  const { line, column } = lineColumnAt(text, first.offset);
  const more =
    rest.length === 0
      ? ''
      : ` (and ${rest.length} more: ${rest.map((problem) => problem.field).join(', ')})`;
  const message =
    `${path}: line ${line}, column ${column}: "${first.field}" ${first.message}${more}. ` +
    'Fix the field and try again.';
  const fields = problems.map((problem) => ({ field: problem.field, message: problem.message }));
  const details = { path, line, column, field: first.field };
  return new HangarError('devcontainer_invalid', message, { fields, details });
}
