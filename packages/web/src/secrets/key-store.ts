/**
 * Where the browser keeps what sealing needs between visits: the user's signing key (a
 * non-extractable CryptoKey, which IndexedDB stores without ever exposing its private half) and
 * the runner keys pinned on first seal. Values are structured clones, never JSON.
 */
export interface KeyStore {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
}

/** A store in memory, for tests: what a fresh browser profile has. */
export function memoryKeyStore(): KeyStore {
  const values = new Map<string, unknown>();
  return {
    get: <T>(key: string) => Promise.resolve(values.get(key) as T | undefined),
    put: (key, value) => {
      values.set(key, value);
      return Promise.resolve();
    },
  };
}

const databaseName = 'hangar-keys';
const storeName = 'keys';

function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function openDatabase(): Promise<IDBDatabase> {
  const request = indexedDB.open(databaseName, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(storeName);
  return requestResult(request);
}

/** The store in this origin's IndexedDB: it lasts as long as the browser profile keeps it. */
export function indexedDbKeyStore(): KeyStore {
  let database: Promise<IDBDatabase> | undefined;
  const run = async <T>(
    mode: IDBTransactionMode,
    act: (store: IDBObjectStore) => IDBRequest<T>,
  ) => {
    database ??= openDatabase().catch((error: unknown) => {
      database = undefined;
      throw error;
    });
    const store = (await database).transaction(storeName, mode).objectStore(storeName);
    return requestResult(act(store));
  };
  return {
    get: async <T>(key: string) =>
      (await run('readonly', (store) => store.get(key))) as T | undefined,
    put: async (key, value) => {
      await run('readwrite', (store) => store.put(value, key));
    },
  };
}
