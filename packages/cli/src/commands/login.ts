import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { SessionTokenResponse, StartDeviceResponse } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { defineCommand } from '../command.js';
import {
  credentialSearchPath,
  credentialsPathIn,
  readCredentialsFile,
  writeCredentialsFile,
} from '../credentials.js';
import { HttpClient } from '../http-client.js';
import type { Io } from '../io.js';
import { holderOf, replacedText, replaceProblem, type Holder } from '../login-credentials.js';
import type { Output } from '../output.js';

/** How long the CLI waits for the browser or the device approval. */
const waitLimitMs = 10 * 60_000;

/**
 * Where a sign-in writes its credentials: `HANGAR_CREDENTIALS`, else `$HANGAR_HOME`, else the
 * first credentials file that exists (the one every command would read), else the user's.
 */
export async function loginCredentialsPath(io: Pick<Io, 'env' | 'cwd' | 'homeDir'>) {
  if (io.env.HANGAR_CREDENTIALS) return resolve(io.cwd, io.env.HANGAR_CREDENTIALS);
  if (io.env.HANGAR_HOME) return credentialsPathIn(resolve(io.cwd, io.env.HANGAR_HOME));
  const paths = credentialSearchPath(io);
  for (const path of paths) {
    const found = await readCredentialsFile(path).then(
      () => true,
      () => false,
    );
    if (found) return path;
  }
  return paths[paths.length - 1] ?? credentialsPathIn(resolve(io.cwd, '.hangar'));
}

/** The control plane: `--url`, `HANGAR_URL`, or the URL of the credentials file. */
async function controlPlaneUrl(io: Io, flag: string | undefined): Promise<string> {
  const url = flag ?? io.env.HANGAR_URL;
  if (url) return url.replace(/\/+$/, '');
  for (const path of credentialSearchPath(io)) {
    const stored = await readCredentialsFile(path).catch(() => undefined);
    if (stored) return stored.controlPlaneUrl;
  }
  throw new HangarError(
    'invalid_request',
    'no control plane URL: pass --url https://hangar.example.com or set HANGAR_URL',
    { fields: [{ field: 'url', message: 'is required when no credentials file names one' }] },
  );
}

function page(title: string, message: string): string {
  const safe = (text: string) =>
    text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${safe(title)}</title>` +
    `</head><body><h1>${safe(title)}</h1><p>${safe(message)}</p></body></html>\n`
  );
}

/** The loopback listener the browser comes back to, and the query it brings. */
async function listenForRedirect(): Promise<{
  server: Server;
  redirectUri: string;
  query: Promise<URLSearchParams>;
}> {
  let deliver: (query: URLSearchParams) => void = () => undefined;
  const query = new Promise<URLSearchParams>((resolveQuery) => (deliver = resolveQuery));
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const error = url.searchParams.get('error');
    const body = error
      ? page(
          'Sign-in failed',
          `${url.searchParams.get('error_description') ?? error}. Run hangar login again.`,
        )
      : page('Signed in to Hangar', 'You can close this tab and go back to the terminal.');
    response
      .writeHead(error ? 400 : 200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'",
        'cache-control': 'no-store',
      })
      .end(body);
    deliver(url.searchParams);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const port = (server.address() as AddressInfo).port;
  return { server, redirectUri: `http://127.0.0.1:${port}/callback`, query };
}

/** Opens the URL with xdg-open when there is a display; a failure only means no browser. */
function tryOpenBrowser(io: Io, url: string): void {
  if (!io.env.DISPLAY && !io.env.WAYLAND_DISPLAY) return;
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** The refusal to replace another's credentials, naming the file and the ways around it. */
function replaceRefusal(path: string, problem: string, ended: boolean): HangarError {
  return new HangarError(
    'conflict',
    `not signed in: ${path} ${problem}, perhaps the owner token \`hangar up\` wrote; ` +
      'pass --credentials FILE (or set HANGAR_CREDENTIALS) to keep this session in a file of ' +
      `its own, or --force to replace them${ended ? '; the new session was ended' : ''}`,
    { fields: [{ field: 'credentials', message: problem }] },
  );
}

/** Ends a session that is not kept; a failure leaves it to expire, and says so. */
async function endSession(out: Output, url: string, token: string): Promise<boolean> {
  const api = new HttpClient({ baseUrl: url, token, service: 'control plane' });
  try {
    await api.post('/v1/auth/logout');
    return true;
  } catch (error) {
    out.warn(`the new session could not be ended and lasts until it expires: ${String(error)}`);
    return false;
  }
}

/** Resolves with what comes first: `work`, Ctrl-C, or the wait limit. */
async function waitOrStop<T>(io: Io, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HangarError('unauthenticated', `${what} took too long; run it again`)),
      waitLimitMs,
    );
  });
  const stopped = io.waitForStop().then((signal) => {
    throw new HangarError('unauthenticated', `${what} was interrupted (${signal})`);
  });
  try {
    return await Promise.race([work, limit, stopped]);
  } finally {
    clearTimeout(timer);
  }
}

async function browserLogin(
  io: Io,
  out: Output,
  api: HttpClient,
  options: { org: string | undefined; openBrowser: boolean },
): Promise<SessionTokenResponse> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const listener = await listenForRedirect();
  try {
    const started = await api.post<{ loginId: string; authorizationUrl: string }>(
      '/v1/auth/login',
      {
        ...(options.org ? { org: options.org } : {}),
        redirectUri: listener.redirectUri,
        codeChallenge: challenge,
      },
    );
    out.info(`open this address in a browser to sign in:\n\n  ${started.authorizationUrl}\n`);
    if (options.openBrowser) tryOpenBrowser(io, started.authorizationUrl);
    out.info('waiting for the browser...');
    const query = await waitOrStop(io, listener.query, 'the sign-in');
    const error = query.get('error');
    if (error) {
      throw new HangarError(
        'unauthenticated',
        `the sign-in was refused: ${query.get('error_description') ?? error}`,
      );
    }
    return await api.post<SessionTokenResponse>('/v1/auth/login/complete', {
      loginId: started.loginId,
      code: query.get('code') ?? '',
      codeVerifier: verifier,
    });
  } finally {
    listener.server.closeAllConnections();
    listener.server.close();
  }
}

async function deviceLogin(
  io: Io,
  out: Output,
  api: HttpClient,
  org: string | undefined,
): Promise<SessionTokenResponse> {
  const started = await api.post<StartDeviceResponse>('/v1/auth/device', org ? { org } : {});
  out.info(
    `to sign in, open ${started.verificationUri} on any device and enter the code\n\n` +
      `  ${started.userCode}\n` +
      (started.verificationUriComplete ? `\nor open ${started.verificationUriComplete}\n` : ''),
  );
  const poll = async (): Promise<SessionTokenResponse> => {
    let intervalS = started.intervalS;
    for (;;) {
      await new Promise((wake) => setTimeout(wake, intervalS * 1000));
      const answer = await api.post<SessionTokenResponse | { status: string; intervalS: number }>(
        '/v1/auth/device/poll',
        { loginId: started.loginId, pollSecret: started.pollSecret },
      );
      if ('token' in answer) return answer;
      intervalS = answer.intervalS;
    }
  };
  return waitOrStop(io, poll(), 'the device sign-in');
}

export const command = defineCommand({
  synopsis: '[--org NAME] [--device] [--no-browser] [--url URL] [--credentials FILE] [--force]',
  description:
    "Signs in through the organization's OpenID provider and stores the session token in the " +
    'credentials file (mode 0600). By default a browser sign-in: the CLI listens on ' +
    '127.0.0.1 and prints the address to open; --device prints a code to enter on any device. ' +
    "A credentials file holding another user's token (such as the owner's from `hangar up`) " +
    'is not replaced unless --force; --credentials FILE writes another file instead.',
  spec: {
    flags: {
      org: {
        type: 'string',
        valueName: 'NAME',
        describe: 'the organization (needed when several sign in here)',
      },
      device: { type: 'boolean', describe: 'sign in with a code on another device' },
      'no-browser': { type: 'boolean', describe: 'only print the address; do not open it' },
      url: {
        type: 'string',
        valueName: 'URL',
        describe: 'control plane URL (default: HANGAR_URL, then the credentials file)',
      },
      credentials: {
        type: 'string',
        valueName: 'FILE',
        describe: 'write the session here (default: HANGAR_CREDENTIALS, then the file in use)',
      },
      force: {
        type: 'boolean',
        describe: "replace a credentials file that holds another user's token",
      },
    },
  },
  async run({ io, out }, { flags }) {
    const url = await controlPlaneUrl(io, flags.url);
    const api = new HttpClient({
      baseUrl: url,
      service: 'control plane',
      unreachableHint: 'check --url or HANGAR_URL',
    });
    const path = flags.credentials
      ? resolve(io.cwd, flags.credentials)
      : await loginCredentialsPath(io);
    const holder: Holder = await holderOf(path, url);
    const early = flags.force ? undefined : replaceProblem(holder, undefined);
    if (early) throw replaceRefusal(path, early, false);
    const session = flags.device
      ? await deviceLogin(io, out, api, flags.org)
      : await browserLogin(io, out, api, { org: flags.org, openBrowser: !flags['no-browser'] });
    const problem = flags.force ? undefined : replaceProblem(holder, session.userId);
    if (problem) {
      throw replaceRefusal(path, problem, await endSession(out, url, session.token));
    }
    await writeCredentialsFile(path, {
      controlPlaneUrl: url,
      token: session.token,
      orgId: session.orgId,
    });
    const replaced = replacedText(holder, session.userId);
    const summary = {
      userId: session.userId,
      orgId: session.orgId,
      tokenId: session.tokenId,
      expiresAt: session.expiresAt,
      credentialsPath: path,
      replaced: replaced ?? null,
    };
    out.result(summary, () => [
      `signed in as ${session.userId} in ${session.orgId}; the session ends ${session.expiresAt}`,
      `credentials written to ${path} (mode 0600)${replaced ? `, replacing ${replaced}` : ''}`,
    ]);
    return 0;
  },
});
