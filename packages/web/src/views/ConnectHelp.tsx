/** The SSH host name `hangar ssh-config --write` gives an environment. */
export function sshHostOf(name: string): string {
  return `${name}.hangar`;
}

/** Opens the environment's workspace in VS Code over Remote-SSH, through that host name. */
export function vscodeLinkOf(name: string, workspaceFolder: string): string {
  const folder = workspaceFolder.startsWith('/') ? workspaceFolder : `/${workspaceFolder}`;
  return `vscode://vscode-remote/ssh-remote+${sshHostOf(name)}${encodeURI(folder)}`;
}

export interface ConnectHelpProps {
  name: string;
  /** Where the repository is inside the environment; known once it has run. */
  workspaceFolder: string | undefined;
}

/** How to reach the environment from your own machine: SSH, OpenSSH's config, VS Code. */
export function ConnectHelp({ name, workspaceFolder }: ConnectHelpProps) {
  const host = sshHostOf(name);
  return (
    <section aria-labelledby="connect-title">
      <h2 id="connect-title">Connect from your machine</h2>
      <p>
        With the <code>hangar</code> command and your SSH key added (
        <code>hangar ssh-key add ~/.ssh/id_ed25519.pub</code>):
      </p>
      <ul className="connect">
        <li>
          A shell: <code>hangar ssh {name}</code>
        </li>
        <li>
          Plain OpenSSH, <code>scp</code>, <code>rsync</code>, <code>git</code>: run{' '}
          <code>hangar ssh-config --write</code> once, then <code>ssh {host}</code>
        </li>
        <li>
          VS Code with Remote-SSH, after <code>hangar ssh-config --write</code>:{' '}
          {workspaceFolder ? (
            <a href={vscodeLinkOf(name, workspaceFolder)}>Open {name} in VS Code</a>
          ) : (
            <>connect to the host {host} (the folder link appears once the environment runs)</>
          )}
        </li>
      </ul>
    </section>
  );
}
