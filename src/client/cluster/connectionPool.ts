/**
 * One connection per store address, opened on first use and shared by every request to that store
 * (a `StoreConnection` multiplexes concurrent calls and reconnects in the background). A connection
 * no request used for `idleTimeToLive` is closed (its store may have moved or left the cluster);
 * all of them close with the scope the pool was made in.
 */
import { type Duration, Effect, RcMap, type Scope } from "effect"
import type { StoreUnavailable } from "../../rpc/errors.js"
import type { StoreConnection } from "../../rpc/storeConnection.js"

export type Connect = (address: string) => Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope>

export interface ConnectionPool {
  /** The connection to `address`, held open until the caller's scope closes. */
  readonly get: (address: string) => Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope>
}

export const makeConnectionPool = (
  connect: Connect,
  options: { readonly idleTimeToLive?: Duration.DurationInput | undefined } = {}
): Effect.Effect<ConnectionPool, never, Scope.Scope> =>
  Effect.map(RcMap.make({ lookup: connect, idleTimeToLive: options.idleTimeToLive ?? "1 minute" }), (connections) => ({
    get: (address) =>
      // a failed connect is not kept: the next request tries again
      Effect.tapError(RcMap.get(connections, address), () => RcMap.invalidate(connections, address))
  }))
