import type { Node } from 'jsonc-parser';

/** A 1-based position in a text, as an editor shows it (columns count UTF-16 code units). */
export interface TextPosition {
  line: number;
  column: number;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own data property, even for a key such as `__proto__` that plain assignment would
 * treat as the prototype. A key that exists keeps its position, as assignment would.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function lineColumnAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x0a || (code === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * The value of a parse tree node. A repeated key keeps the position of its first occurrence and
 * takes the value of its last, as the reference does.
 */
export function nodeToValue(node: Node): unknown {
  if (node.type === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, valueNode] of propertyEntries(node))
      setOwn(result, key, nodeToValue(valueNode));
    return result;
  }
  if (node.type === 'array') return (node.children ?? []).map(nodeToValue);
  const value: unknown = node.value;
  return value;
}

/** Each property's key and value node in order of appearance, repeats included. */
export function propertyEntries(node: Node): [string, Node][] {
  const entries: [string, Node][] = [];
  for (const property of node.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (keyNode === undefined || valueNode === undefined) continue;
    const key: unknown = keyNode.value;
    if (typeof key === 'string') entries.push([key, valueNode]);
  }
  return entries;
}

/** The value node that counts for each key of an object node: the last one written. */
export function effectiveProperties(node: Node): Map<string, Node> {
  return new Map(propertyEntries(node));
}
