import assert from 'node:assert/strict';
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';

/** The HTML a view renders for fixed props: what the view tests read. */
export function markup(element: ReactElement): string {
  return renderToStaticMarkup(element);
}

/** Every input, select and textarea has a label whose `for` names it. */
export function assertLabelled(html: string): void {
  const controls = [...html.matchAll(/<(?:input|select|textarea)[^>]* id="([^"]+)"/g)].map(
    (match) => match[1],
  );
  assert.ok(controls.length > 0, 'the view has form controls');
  for (const id of controls) {
    assert.match(html, new RegExp(`<label for="${id}"`), `control ${id} has a label`);
  }
}

export const ignore = () => undefined;
