/**
 * A store-to-store link through a `LinkProxy` that is cut (a blackhole: bytes vanish, no error, no
 * refusal) and then healed: messages must flow again within a deadline. The nemesis once ended runs
 * with a link that logged "store unreachable" and never "reachable again".
 */
import { describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Queue } from "effect"
import { layerTransportRpc, type TransportRpcOptions } from "../../src/layers/transportRpc.js"
import { makeLinkProxy } from "../../src/nemesis/linkProxy.js"
import type { StoreId } from "../../src/protocol/ids.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { Transport } from "../../src/services/Transport.js"
import { eventually } from "../../src/testing/eventually.js"
import { messages, s1, s2 } from "./fixtures.js"
import { startRaftStore } from "./liveStore.js"

const transportOf = (addresses: Map<StoreId, string>, options: Partial<TransportRpcOptions> = {}) =>
  Effect.map(
    Layer.build(layerTransportRpc({ resolve: (s) => Effect.sync(() => addresses.get(s)), ...options })),
    Context.get(Transport)
  )

/** Sends one message at a time until one arrives (the inbox is drained first); fails at the deadline. */
const flows = (transport: Transport["Type"], inbox: Queue.Queue<RaftMessage>, what: string, next: { i: number }) =>
  Effect.gen(function* () {
    yield* Queue.takeAll(inbox)
    yield* eventually(
      Effect.gen(function* () {
        yield* transport.send(messages(s1, s2, 1, next.i++))
        return (yield* Queue.size(inbox)) > 0
      }),
      { what, timeout: "15 seconds", interval: "20 millis" }
    )
  })

describe("RPC transport through a link proxy", () => {
  it.scopedLive("a link that was blackholed delivers again after the heal", () =>
    Effect.gen(function* () {
      const store = yield* startRaftStore
      const proxy = yield* makeLinkProxy
      proxy.setTarget(store.address)
      const transport = yield* transportOf(new Map([[s2, `127.0.0.1:${proxy.port}`]]))
      const next = { i: 1 }
      yield* flows(transport, store.inbox, "messages before the cut", next)
      for (let round = 0; round < 3; round++) {
        yield* proxy.cut
        // keep sending through the cut until the proxy has thrown some of it away
        const before = proxy.discardedBytes()
        yield* eventually(
          Effect.gen(function* () {
            yield* transport.send(messages(s1, s2, 5, next.i))
            next.i += 5
            return proxy.discardedBytes() > before
          }),
          { what: `messages to vanish in cut ${round + 1}`, timeout: "20 seconds", interval: "50 millis" }
        )
        yield* Queue.takeAll(store.inbox)
        yield* proxy.heal
        yield* flows(transport, store.inbox, `messages after heal ${round + 1}`, next)
      }
    })
  )
})
