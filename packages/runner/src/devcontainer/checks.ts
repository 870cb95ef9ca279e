import type { Node } from 'jsonc-parser';
import { effectiveProperties } from './json-tree.js';

/** One wrong field: its path (`build.args.TZ`, `forwardPorts[1]`) and where its value starts. */
export interface FieldProblem {
  field: string;
  message: string;
  offset: number;
}

/** Checks one value node and records what is wrong with it. */
export type Check = (node: Node, field: string, problems: FieldProblem[]) => void;

export function describeNode(node: Node): string {
  switch (node.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return 'null';
  }
}

export function childField(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function expected(problems: FieldProblem[], node: Node, field: string, what: string): void {
  problems.push({
    field,
    message: `must be ${what}, not ${describeNode(node)}`,
    offset: node.offset,
  });
}

export const isString: Check = (node, field, problems) => {
  if (node.type !== 'string') expected(problems, node, field, 'a string');
};

export const isBoolean: Check = (node, field, problems) => {
  if (node.type !== 'boolean') expected(problems, node, field, 'true or false');
};

export function isStringOrNull(node: Node, field: string, problems: FieldProblem[]): void {
  if (node.type !== 'string' && node.type !== 'null') {
    expected(problems, node, field, 'a string or null');
  }
}

export function arrayOf(item: Check): Check {
  return (node, field, problems) => {
    if (node.type !== 'array') return expected(problems, node, field, 'an array');
    (node.children ?? []).forEach((child, index) =>
      item(child, childField(field, index), problems),
    );
  };
}

export const isStringArray: Check = arrayOf(isString);

export const isStringOrStringArray: Check = (node, field, problems) => {
  if (node.type === 'string') return;
  if (node.type !== 'array')
    return expected(problems, node, field, 'a string or an array of strings');
  isStringArray(node, field, problems);
};

export function objectOf(value: Check): Check {
  return (node, field, problems) => {
    if (node.type !== 'object') return expected(problems, node, field, 'an object');
    for (const [key, child] of effectiveProperties(node))
      value(child, childField(field, key), problems);
  };
}

export const isObject: Check = (node, field, problems) => {
  if (node.type !== 'object') expected(problems, node, field, 'an object');
};

/** An object whose listed fields have the given types; other fields are left as written. */
export function objectWith(fields: Record<string, Check>, required: string[] = []): Check {
  return (node, field, problems) => {
    if (node.type !== 'object') return expected(problems, node, field, 'an object');
    const properties = effectiveProperties(node);
    for (const name of required) {
      if (properties.has(name)) continue;
      const message = `must have a "${name}" field`;
      problems.push({ field, message, offset: node.offset });
    }
    for (const [key, child] of properties) {
      if (Object.hasOwn(fields, key)) fields[key]?.(child, childField(field, key), problems);
    }
  };
}

export function oneOf(values: readonly string[]): Check {
  const list = values.map((value) => JSON.stringify(value)).join(', ');
  return (node, field, problems) => {
    const value: unknown = node.value;
    if (node.type === 'string' && typeof value === 'string' && values.includes(value)) return;
    const found = node.type === 'string' ? JSON.stringify(value) : describeNode(node);
    problems.push({ field, message: `must be one of ${list}, not ${found}`, offset: node.offset });
  };
}

export function isInteger(options: { min: number; max?: number }): Check {
  return (node, field, problems) => {
    const value: unknown = node.value;
    const ok =
      node.type === 'number' &&
      typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= options.min &&
      (options.max === undefined || value <= options.max);
    if (ok) return;
    const range =
      options.max === undefined ? `${options.min} or more` : `${options.min}-${options.max}`;
    const found = node.type === 'number' ? String(value) : describeNode(node);
    const message = `must be a whole number ${range}, not ${found}`;
    problems.push({ field, message, offset: node.offset });
  };
}
