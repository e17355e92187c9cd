/** The store connection pool: one shared connection per address, failures not kept, idle connections closed. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { makeConnectionPool } from "../../../src/client/cluster/connectionPool.js"
import { StoreUnavailable } from "../../../src/rpc/errors.js"
import type { StoreConnection } from "../../../src/rpc/storeConnection.js"

/** A fake `connect` counting opens and closes; `refuse` makes the next opens fail. */
const fakeConnect = () => {
  const state = { opened: 0, closed: 0, refuse: false }
  const connect = (address: string) =>
    Effect.gen(function* () {
      state.opened++
      if (state.refuse) return yield* new StoreUnavailable({ address, message: "ECONNREFUSED" })
      yield* Effect.addFinalizer(() => Effect.sync(() => void state.closed++))
      const conn: StoreConnection = { address, call: () => Effect.dieMessage("not called in this test") }
      return conn
    })
  return { state, connect }
}

describe("connection pool", () => {
  it.scoped("concurrent requests to one store share one connection; another store gets its own", () =>
    Effect.gen(function* () {
      const { state, connect } = fakeConnect()
      const pool = yield* makeConnectionPool(connect)
      const conns = yield* Effect.forEach([1, 2, 3, 4], () => Effect.scoped(pool.get("a:1")), {
        concurrency: "unbounded"
      })
      assert.strictEqual(state.opened, 1)
      assert.isTrue(conns.every((c) => c === conns[0]))
      const other = yield* Effect.scoped(pool.get("b:2"))
      assert.strictEqual(other.address, "b:2")
      assert.strictEqual(state.opened, 2)
      assert.strictEqual(state.closed, 0)
    })
  )

  it.scoped("a failed connect is not kept: the next request dials again", () =>
    Effect.gen(function* () {
      const { state, connect } = fakeConnect()
      const pool = yield* makeConnectionPool(connect)
      state.refuse = true
      const failed = yield* Effect.flip(Effect.scoped(pool.get("a:1")))
      assert.strictEqual(failed._tag, "StoreUnavailable")
      state.refuse = false
      const conn = yield* Effect.scoped(pool.get("a:1"))
      assert.strictEqual(conn.address, "a:1")
      assert.strictEqual(state.opened, 2)
    })
  )

  it.scoped(
    "a connection idle for the time-to-live is closed; one in use is not; the pool's scope closes the rest",
    () =>
      Effect.gen(function* () {
        const { state, connect } = fakeConnect()
        const poolScope = yield* Scope.make()
        const pool = yield* Scope.extend(makeConnectionPool(connect, { idleTimeToLive: "10 seconds" }), poolScope)
        yield* Effect.scoped(pool.get("idle:1"))
        // held by a request that is still running
        const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(pool.get("busy:2"), Effect.never)))
        yield* TestClock.adjust("9 seconds")
        assert.strictEqual(state.closed, 0)
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(state.closed, 1, "the idle connection closed")
        yield* Effect.scoped(pool.get("idle:1"))
        assert.strictEqual(state.opened, 3, "a request after the close dials again")
        yield* Fiber.interrupt(holder)
        yield* Scope.close(poolScope, Exit.void)
        assert.strictEqual(state.closed, 3)
      })
  )

  it.scoped(
    "use opens on demand; useOpen runs only on an open connection; a connection in use outlives its idle time",
    () =>
      Effect.gen(function* () {
        const { state, connect } = fakeConnect()
        const pool = yield* makeConnectionPool(connect, { idleTimeToLive: "10 seconds" })
        assert.isUndefined(pool.useOpen("a:1", Effect.succeed), "nothing open yet: nothing run")
        const first = yield* pool.use("a:1", Effect.succeed)
        const again = pool.useOpen("a:1", Effect.succeed)
        assert.isDefined(again)
        assert.strictEqual(yield* again!, first)
        assert.strictEqual(state.opened, 1)
        // a request that runs past the idle time keeps its connection open
        const busy = yield* Effect.fork(pool.use("a:1", () => Effect.never))
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual(state.closed, 0)
        yield* Fiber.interrupt(busy)
        yield* TestClock.adjust("11 seconds")
        assert.strictEqual(state.closed, 1, "idle once the request ended")
        assert.isUndefined(pool.useOpen("a:1", Effect.succeed), "a closed connection is not at hand")
      })
  )
})
