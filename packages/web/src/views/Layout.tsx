import type { ReactNode } from 'react';
import type { Role } from '../client.js';
import { Link } from '../router.js';

export interface NavItem {
  href: string;
  label: string;
  roles: readonly Role[];
}

/** The pages, and the roles whose work they are (the API decides what each may really do). */
export const navItems: readonly NavItem[] = [
  { href: '/', label: 'Environments', roles: ['owner', 'admin', 'member', 'runner-admin'] },
  { href: '/agents', label: 'Agents', roles: ['owner', 'admin', 'member'] },
  { href: '/audit', label: 'Audit', roles: ['owner', 'admin', 'auditor'] },
  { href: '/runners', label: 'Runners', roles: ['owner', 'admin', 'runner-admin'] },
  { href: '/org', label: 'Organization', roles: ['owner', 'admin', 'member', 'runner-admin'] },
];

/** The first page a role sees after signing in. */
export function homeOf(role: Role): string {
  return navItems.find((item) => item.roles.includes(role))?.href ?? '/';
}

export interface LayoutProps {
  role: Role;
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
export function Layout({ role, userId, current, onSignOut, children }: LayoutProps) {
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="top">
        <p className="brand">Hangar</p>
        <nav aria-label="Pages">
          <ul>
            {navItems
              .filter((item) => item.roles.includes(role))
              .map((item) => (
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
