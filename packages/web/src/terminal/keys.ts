/** How the page names the key that moves focus out of the terminal. */
export const leaveKeyLabel = 'Ctrl+Shift+L';

/**
 * Ctrl+Shift+L moves focus out of the terminal, which otherwise keeps every key, Tab included,
 * for the shell. The shell loses nothing: a terminal sends the same Ctrl+L with or without Shift.
 */
export function isLeaveKey(event: {
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
  key: string;
}): boolean {
  return (
    event.ctrlKey &&
    event.shiftKey &&
    !event.altKey &&
    !event.metaKey &&
    event.key.toLowerCase() === 'l'
  );
}
