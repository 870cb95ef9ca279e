import type { ReactNode } from 'react';

export interface ConfirmDeleteProps {
  /** What is deleted, as the buttons and the group's label name it. */
  name: string;
  /** The question, saying what goes with it. */
  question: ReactNode;
  busy?: boolean;
  className?: string;
  onConfirm: () => void;
  onCancel: () => void;
}

/** The second step of every delete: the question, then "Yes, delete …" or "Cancel". */
export function ConfirmDelete({
  name,
  question,
  busy = false,
  className,
  onConfirm,
  onCancel,
}: ConfirmDeleteProps) {
  return (
    <div role="group" aria-label={`Confirm deleting ${name}`} className={className}>
      {question}{' '}
      <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
        Yes, delete {name}
      </button>{' '}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
