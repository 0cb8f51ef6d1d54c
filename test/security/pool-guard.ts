// Watches a pg pool for the pattern that exhausts it: an operation asking for a connection while it
// already holds one it checked out. Each operation runs in its own async scope (AsyncLocalStorage);
// a checkout (`pool.connect()`) counts as held until released, and any acquisition in that scope
// meanwhile (another connect, or a pool.query) is recorded with its stack.
import { AsyncLocalStorage } from "node:async_hooks";
import type pg from "pg";

interface Scope {
  held: number;
  violations: string[];
}

const scopes = new AsyncLocalStorage<Scope>();
const guarded = new WeakSet<pg.Pool>();

type Connect = (callback?: (err: Error | undefined, client: pg.PoolClient, done: () => void) => void) => unknown;

export function guardPool(pool: pg.Pool, label: string): void {
  if (guarded.has(pool)) return;
  guarded.add(pool);
  const connect = pool.connect.bind(pool) as Connect;
  (pool as unknown as { connect: Connect }).connect = (callback) => {
    const scope = scopes.getStore();
    if (scope && scope.held > 0) {
      scope.violations.push(`${label}: a connection was requested while holding ${scope.held}\n${new Error().stack?.split("\n").slice(2, 12).join("\n")}`);
    }
    // pool.query checks out and releases by itself (callback form): not held across the caller's awaits
    if (callback) return connect(callback);
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      if (!scope) return client;
      scope.held++;
      const release = client.release;
      client.release = (err?: Error | boolean) => {
        scope.held--;
        client.release = release;
        return release.call(client, err);
      };
      return client;
    });
  };
}

/** Runs `fn` as one operation and returns what it asked of the guarded pools out of turn. */
export async function violationsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const scope: Scope = { held: 0, violations: [] };
  await scopes.run(scope, async () => {
    try {
      await fn();
    } catch {
      // failures are the operation's business; only how it took connections is checked here
    }
  });
  return scope.violations;
}
