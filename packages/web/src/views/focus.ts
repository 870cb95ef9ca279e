import { useEffect, useRef } from 'react';

/**
 * A ref whose element takes the keyboard focus when it first appears, for a panel that opens in
 * answer to a button (a record's detail, a new runner's token), so a screen reader reads it next.
 */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
