import type { ReactNode } from 'react';
import type { Role } from '../client.js';
import { Link } from '../router.js';

export interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[];
  /** The scope the page's first call needs: a narrower token does not see the page offered. */
  scope: string;
}

/** The pages, and the roles whose work they are (the API decides what each may really do). */
export const navItems: readonly NavItem[] = [
  {
    href: '/',
    label: 'Environments',
    roles: ['owner', 'admin', 'member', 'runner-admin'],
    scope: 'environments:read',
  },
  {
    href: '/agents',
    label: 'Agents',
    roles: ['owner', 'admin', 'member'],
    scope: 'environments:read',
  },
  { href: '/audit', label: 'Audit', roles: ['owner', 'admin', 'auditor'], scope: 'audit:read' },
  {
    href: '/runners',
    label: 'Runners',
    roles: ['owner', 'admin', 'runner-admin'],
    scope: 'environments:read',
  },
  {
    href: '/org',
    label: 'Organization',
    roles: ['owner', 'admin', 'member', 'runner-admin'],
    scope: 'environments:read',
  },
];

/** Who is signed in, as far as the pages offered go. */
export interface Viewer {
  role: Role;
  scopes: readonly string[];
}

/** The pages offered to a viewer: those of its role that its token's scopes can read. */
export function pagesFor(viewer: Viewer): NavItem[] {
  return navItems.filter(
    (item) => item.roles.includes(viewer.role) && viewer.scopes.includes(item.scope),
  );
}

/** The first page a viewer sees after signing in. */
export function homeOf(viewer: Viewer): string {
  return pagesFor(viewer)[0]?.href ?? '/';
}

export interface LayoutProps extends Viewer {
  userId: string;
  /** The path shown, to mark its link as the current page. */
  current: string;
  onSignOut: () => void;
  children: ReactNode;
}

function isCurrent(href: string, current: string): boolean {
  if (href === '/') return current === '/' || current.startsWith('/environments/');
  return current === href || current.startsWith(`${href}/`);
}

/** Every signed-in page: a skip link, the header with the pages this role uses, then the page. */
export function Layout({ role, scopes, userId, current, onSignOut, children }: LayoutProps) {
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="top">
        <p className="brand">Hangar</p>
        <nav aria-label="Pages">
          <ul>
            {pagesFor({ role, scopes }).map((item) => (
              <li key={item.href}>
                <Link
                  href={item.href}
                  aria-current={isCurrent(item.href, current) ? 'page' : undefined}
                >
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <p className="who">
          <span className="visually-hidden">Signed in as </span>
          <code>{userId}</code> ({role})
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
