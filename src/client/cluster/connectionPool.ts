/**
 * One connection per store address, opened on first use and shared by every request to that store
 * (a `StoreConnection` multiplexes concurrent calls and reconnects in the background). Connections
 * live as long as the scope the pool was made in.
 */
import { Deferred, Effect, Exit, Scope } from "effect"
import type { StoreUnavailable } from "../errors.js"
import type { StoreConnection } from "../storeConnection.js"

export type Connect = (address: string) => Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope>

export interface ConnectionPool {
  readonly get: (address: string) => Effect.Effect<StoreConnection, StoreUnavailable>
}

export const makeConnectionPool = (connect: Connect): Effect.Effect<ConnectionPool, never, Scope.Scope> =>
  Effect.map(Effect.scope, (scope) => {
    const pool = new Map<string, Deferred.Deferred<StoreConnection, StoreUnavailable>>()
    const open = (address: string) =>
      Effect.gen(function* () {
        // concurrent first requests to one store wait for the same connection
        const ready = yield* Deferred.make<StoreConnection, StoreUnavailable>()
        pool.set(address, ready)
        const exit = yield* Effect.exit(Scope.extend(connect(address), scope))
        // a failed connect is not cached: the next request tries again
        if (Exit.isFailure(exit)) pool.delete(address)
        yield* Deferred.done(ready, exit)
        return yield* exit
      }).pipe(Effect.uninterruptible)
    return {
      get: (address) =>
        Effect.suspend(() => {
          const ready = pool.get(address)
          return ready === undefined ? open(address) : Deferred.await(ready)
        })
    }
  })
