/**
 * The dashboard's session cookie: plain over http, `__Host-` prefixed over TLS. Browsers send a
 * host's cookies to every port of that host, so the runner's port proxy, which may share a host
 * name with the control plane, must neither pass these to an app nor let an app set them.
 */
export const sessionCookieNames = ['hangar_session', '__Host-hangar_session'] as const;
