/**
 * Where the ShipBob adapter keeps the little state that must outlive one invocation: the
 * status feed's cursor and, with OAuth, the refresh token ShipBob rotated on its last use.
 * In AWS the hub passes a durable store (a DynamoDB item, the connector's secret); the
 * default keeps values in this process only, which is right for tests and the local hub
 * but loses them on a cold start.
 */

/** A small durable key → value store. */
export interface StateStore {
  load(key: string): Promise<string | undefined>;
  save(key: string, value: string): Promise<void>;
}

const processValues = new Map<string, string>();

/** The default store: module memory, shared by every adapter of this process. */
export const processStateStore: StateStore = {
  load: (key) => Promise.resolve(processValues.get(key)),
  save: (key, value) => {
    processValues.set(key, value);
    return Promise.resolve();
  },
};

/** A store of its own (tests that must not see each other's cursors). */
export function memoryStateStore(): StateStore {
  const values = new Map<string, string>();
  return {
    load: (key) => Promise.resolve(values.get(key)),
    save: (key, value) => {
      values.set(key, value);
      return Promise.resolve();
    },
  };
}
