/**
 * xterm.js 6 writes part of its CSS at run time in ways the dashboard's `style-src 'self'`
 * refuses: three `<style>` elements whose text it sets after putting them in the terminal's
 * screen element (the viewport's scrollbar colours, the DOM renderer's row metrics and its
 * theme colours). Refused, each logs a CSP violation and the terminal renders wrongly.
 *
 * This document stands in for the real one through xterm's own `documentOverride` option, which
 * xterm uses to make its elements (the viewport's `<style>` it makes with the real document,
 * but puts in an element made here). An element made here keeps any `<style>` put in it out of
 * the page, and the text xterm gives that `<style>` goes into a constructed style sheet the
 * document adopts; a `style` attribute set on it goes through `element.style.cssText`. Both are
 * the CSS object model, which the CSP does not govern, so the policy stays strict (no
 * 'unsafe-inline', no nonce) and nothing is refused. Everything else is the real document.
 *
 * Known gap: xterm's DOM renderer makes the cells of a row with the real document and colours a
 * cell of 24-bit colour (`ESC[38;2;r;g;bm`) with a `style` attribute, which the CSP refuses:
 * such cells show the default colour and log a violation. 16- and 256-colour output is styled by
 * class and is unaffected. A renderer that draws on a canvas (xterm's WebGL add-on) would close
 * it where WebGL is available.
 */
export interface StyleSafeDocument {
  /** Pass as xterm's `documentOverride`. */
  document: Document;
  /** Drops the style sheets made for the terminal; call after disposing it. */
  dispose(): void;
}

export function styleSafeDocument(real: Document): StyleSafeDocument {
  const sheets: CSSStyleSheet[] = [];
  const backed = new WeakSet<HTMLStyleElement>();

  /** From now on the element's text is the rules of a sheet of its own, adopted by `real`. */
  const backWithSheet = (style: HTMLStyleElement) => {
    if (backed.has(style)) return;
    backed.add(style);
    const sheet = new CSSStyleSheet();
    sheets.push(sheet);
    real.adoptedStyleSheets = [...real.adoptedStyleSheets, sheet];
    let text = '';
    Object.defineProperty(style, 'textContent', {
      configurable: true,
      get: () => text,
      set: (value: string | null) => {
        text = value ?? '';
        sheet.replaceSync(text);
      },
    });
  };

  function appendChild<T extends Node>(this: Node, node: T): T {
    // Kept out of the page: a detached `<style>` is never applied, so never refused.
    if (node instanceof HTMLStyleElement) {
      backWithSheet(node);
      return node;
    }
    return Node.prototype.appendChild.call(this, node) as T;
  }

  const createElement = (tagName: string, options?: ElementCreationOptions): HTMLElement => {
    const element = real.createElement(tagName, options);
    if (element instanceof HTMLStyleElement) backWithSheet(element);
    element.appendChild = appendChild;
    element.setAttribute = setAttributeThroughCssom;
    return element;
  };

  const document = new Proxy(real, {
    get(target, key) {
      if (key === 'createElement') return createElement;
      const value: unknown = Reflect.get(target, key, target);
      // The document's own methods must run with the real document as `this`.
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });

  return {
    document,
    dispose() {
      real.adoptedStyleSheets = real.adoptedStyleSheets.filter((sheet) => !sheets.includes(sheet));
      sheets.length = 0;
    },
  };
}

function setAttributeThroughCssom(this: HTMLElement, name: string, value: string): void {
  if (name.toLowerCase() === 'style') this.style.cssText = value;
  else Element.prototype.setAttribute.call(this, name, value);
}
