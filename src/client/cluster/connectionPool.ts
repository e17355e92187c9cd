/**
 * One connection per store address, opened on first use and shared by every request to that store
 * (a `StoreConnection` multiplexes concurrent calls and reconnects in the background). A connection
 * no request used for `idleTimeToLive` is closed (its store may have moved or left the cluster);
 * all of them close with the scope the pool was made in.
 *
 * `RcMap` opens and closes the connections; the pool holds each open one with a lease of its own and
 * counts the requests using it, so a request to an open connection costs no scope and no `RcMap` lookup
 * (the client's hot path: docs/PERFORMANCE.md, "The client's CPU"). A sweep every half time-to-live
 * gives up the leases of connections idle that long; `RcMap` then closes them.
 */
import { Duration, Effect, ExecutionStrategy, Exit, RcMap, Schedule, Scope } from "effect"
import type { StoreUnavailable } from "../../rpc/errors.js"
import type { StoreConnection } from "../../rpc/storeConnection.js"

export type Connect = (address: string) => Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope>

export interface ConnectionPool {
  /** The connection to `address`, held open until the caller's scope closes. */
  readonly get: (address: string) => Effect.Effect<StoreConnection, StoreUnavailable, Scope.Scope>
  /** Runs `f` on the connection to `address`, held open while `f` runs. */
  readonly use: <A, E>(
    address: string,
    f: (connection: StoreConnection) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | StoreUnavailable>
  /** `use` when the connection is open already; `undefined` (and nothing run) when it is not. */
  readonly useOpen: <A, E>(
    address: string,
    f: (connection: StoreConnection) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E> | undefined
}

interface Held {
  readonly connection: StoreConnection
  /** Holds `RcMap`'s reference; closing it lets `RcMap` close the connection. */
  readonly lease: Scope.CloseableScope
  /** Requests running on it now. */
  users: number
  /** When the last request on it ended (Clock millis). */
  lastUsed: number
}

export const makeConnectionPool = (
  connect: Connect,
  options: { readonly idleTimeToLive?: Duration.DurationInput | undefined } = {}
): Effect.Effect<ConnectionPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const idleMs = Duration.toMillis(Duration.decode(options.idleTimeToLive ?? "1 minute"))
    const poolScope = yield* Effect.scope
    const clock = yield* Effect.clock
    // NB: no idle time here: a connection closes as soon as its lease is given up
    const connections = yield* RcMap.make({ lookup: connect })
    const held = new Map<string, Held>()

    const acquire = (address: string): Effect.Effect<Held, StoreUnavailable> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const lease = yield* Scope.fork(poolScope, ExecutionStrategy.sequential)
          const opened = yield* restore(RcMap.get(connections, address)).pipe(Scope.extend(lease), Effect.exit)
          if (Exit.isFailure(opened)) {
            yield* Scope.close(lease, Exit.void)
            // a failed connect is not kept: the next request tries again
            yield* RcMap.invalidate(connections, address)
            return yield* Effect.failCause(opened.cause)
          }
          // another request may have opened it meanwhile: keep one lease
          const raced = held.get(address)
          if (raced !== undefined) {
            yield* Scope.close(lease, Exit.void)
            return raced
          }
          const h: Held = { connection: opened.value, lease, users: 0, lastUsed: clock.unsafeCurrentTimeMillis() }
          held.set(address, h)
          return h
        })
      )

    const enter = (h: Held) => {
      h.users++
      return h.connection
    }
    const leave = (h: Held) =>
      Effect.sync(() => {
        h.users--
        h.lastUsed = clock.unsafeCurrentTimeMillis()
      })
    const openHeld = (address: string): Effect.Effect<Held, StoreUnavailable> =>
      Effect.suspend(() => {
        const h = held.get(address)
        return h !== undefined ? Effect.succeed(h) : acquire(address)
      })

    // --- the sweep: leases of connections idle for the time-to-live are given up ---
    const sweep = Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const idle = [...held].filter(([, h]) => h.users === 0 && now - h.lastUsed >= idleMs)
      for (const [address] of idle) held.delete(address)
      return Effect.forEach(idle, ([, h]) => Scope.close(h.lease, Exit.void), { discard: true })
    })
    yield* Effect.forkIn(
      Effect.repeat(sweep, Schedule.spaced(Duration.millis(Math.max(1, idleMs / 2)))).pipe(Effect.interruptible),
      poolScope
    )
    yield* Effect.addFinalizer(() => Effect.sync(() => held.clear()))

    return {
      get: (address) =>
        Effect.map(Effect.acquireRelease(Effect.tap(openHeld(address), enter), leave), (h) => h.connection),
      use: (address, f) => Effect.flatMap(openHeld(address), (h) => Effect.ensuring(f(enter(h)), leave(h))),
      useOpen: (address, f) => {
        const h = held.get(address)
        return h === undefined ? undefined : Effect.suspend(() => Effect.ensuring(f(enter(h)), leave(h)))
      }
    }
  })
