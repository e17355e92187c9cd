/**
 * A stopping server ends its connections itself: it does not wait for its peers to hang up. A store's peers
 * keep their links to it open (`src/layers/raftLink.ts` never closes an idle one) and reconnect as soon as it
 * stops serving them; the listener's close used to wait on both (`src/server/connectionHandoff.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as Net from "node:net"
import { makeConnectionHandoff } from "../../src/server/connectionHandoff.js"
import { eventually } from "../../src/testing/eventually.js"
import { startRaftStore } from "../transport/liveStore.js"

/** A client connection that never sends, never reads and never closes by itself; `closed` once the server ends it. */
const idlePeer = (address: string) =>
  Effect.async<{ readonly socket: Net.Socket; readonly closed: () => boolean }>((resume) => {
    const [host, port] = address.split(":")
    let closed = false
    const socket = Net.connect({ host: host!, port: Number(port) })
    socket.on("error", () => {})
    socket.on("close", () => {
      closed = true
    })
    socket.once("connect", () => resume(Effect.succeed({ socket, closed: () => closed })))
  })

describe("a server that stops", () => {
  it.live("closes the connections its peers keep open, and stops without waiting for them", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const store = yield* startRaftStore.pipe(Scope.extend(scope))
      const peers = yield* Effect.all([idlePeer(store.address), idlePeer(store.address)])
      // the deadline is only a bound on a hang: the close takes milliseconds
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("20 seconds"), Effect.exit)
      assert.isTrue(Exit.isSuccess(closed), "the server's scope closed while its peers kept their connections open")
      yield* eventually(() => peers.every((p) => p.closed()), { what: "the server to end every connection" })
      for (const p of peers) p.socket.destroy()
    })
  )

  it.scopedLive(
    "connections accepted before `run` are served by it; those accepted after the close are destroyed",
    () =>
      Effect.gen(function* () {
        // server-side ends of real loopback connections, as a listener would accept them
        const accepted: Array<Net.Socket> = []
        const listener = Net.createServer((s) => void accepted.push(s.on("error", () => {})))
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void listener.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () => Effect.sync(() => listener.close())
        )
        const port = (listener.address() as Net.AddressInfo).port
        const clients: Array<Net.Socket> = []
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const c of clients) c.destroy()
          })
        )
        const accept = Effect.gen(function* () {
          const before = accepted.length
          clients.push(Net.connect({ host: "127.0.0.1", port }).on("error", () => {}))
          yield* eventually(() => accepted.length > before, { what: "the listener to accept a connection" })
          return accepted[before]!
        })
        const handoff = makeConnectionHandoff()
        const early = yield* accept
        handoff.admit(early)
        let served = 0
        const runScope = yield* Scope.make()
        yield* handoff
          // as RpcServer does: the connection is read (`socket.run`) until the peer or `run` ends it
          .run((socket) =>
            Effect.zipRight(
              Effect.sync(() => served++),
              socket.run(() => {})
            )
          )
          .pipe(Effect.forkIn(runScope))
        yield* eventually(() => served === 1, { what: "the connection accepted before run to be served" })
        // `run` ends (the server stops serving): what it served is ended with it
        yield* Scope.close(runScope, Exit.void)
        yield* eventually(() => early.closed, { what: "the served connection to be closed when run ends" })
        // one arriving now waits for a run that will not come: the close destroys it, and any later one at once
        const waiting = yield* accept
        handoff.admit(waiting)
        assert.isFalse(waiting.destroyed)
        handoff.close()
        assert.isTrue(waiting.destroyed, "a connection no run will serve is destroyed by the close")
        const late = yield* accept
        handoff.admit(late)
        assert.isTrue(late.destroyed, "a connection accepted after the close is destroyed at once")
        assert.strictEqual(served, 1)
      })
  )
})
