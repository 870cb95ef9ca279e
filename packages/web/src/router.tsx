import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The dashboard's pages; each path is also served by the control plane as index.html. */
export type Route =
  | { page: 'environments' }
  | { page: 'environment'; id: string }
  | { page: 'agents' }
  | { page: 'agent'; id: string }
  | { page: 'audit' }
  | { page: 'runners' }
  | { page: 'org' }
  | { page: 'sign-in-callback' }
  | { page: 'not-found'; path: string };

const idPattern = /^[A-Za-z0-9_-]{1,100}$/;

export function routeOf(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { page: 'not-found', path };
  if (first === undefined) return { page: 'environments' };
  if (first === 'environments' && second && idPattern.test(second)) {
    return { page: 'environment', id: second };
  }
  if (first === 'agents') {
    if (second === undefined) return { page: 'agents' };
    if (idPattern.test(second)) return { page: 'agent', id: second };
  }
  if (second === undefined) {
    if (first === 'audit') return { page: 'audit' };
    if (first === 'runners') return { page: 'runners' };
    if (first === 'org') return { page: 'org' };
  }
  if (first === 'sign-in' && second === 'callback') return { page: 'sign-in-callback' };
  return { page: 'not-found', path };
}

export function pathOf(route: Route): string {
  switch (route.page) {
    case 'environments':
      return '/';
    case 'environment':
      return `/environments/${route.id}`;
    case 'agent':
      return `/agents/${route.id}`;
    case 'sign-in-callback':
      return '/sign-in/callback';
    case 'not-found':
      return route.path;
    default:
      return `/${route.page}`;
  }
}

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/** The path of the page shown; a component using it renders again when it changes. */
export function usePath(): string {
  return useSyncExternalStore(
    subscribe,
    () => location.pathname,
    () => '/',
  );
}

/** Shows another page without loading the document again. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

/** A link to a page of the dashboard: a real `<a href>`, followed without a reload. */
export function Link({
  href,
  onClick,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    if (event.defaultPrevented || modified || event.button !== 0) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
