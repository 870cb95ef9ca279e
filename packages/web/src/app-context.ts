import { createContext, useContext } from 'react';
import type { Client, WebSession } from './client.js';

/** What every page of a signed-in dashboard gets: the API client and who is signed in. */
export interface AppContextValue {
  client: Client;
  session: WebSession;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside a signed-in dashboard');
  return value;
}
