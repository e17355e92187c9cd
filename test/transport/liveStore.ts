/**
 * A store serving `TinyKvRpcs` on a free loopback port with the real Raft handlers (the rest are the
 * standalone ones), recording what arrives, for the live transport tests.
 */
import * as Net from "node:net"
import { SocketServer } from "@effect/platform/SocketServer"
import { Effect, Layer, Option, Queue } from "effect"
import { layerStandalone } from "../../src/layers/kvStorageStandalone.js"
import { layerMemory } from "../../src/layers/storageMemory.js"
import { layerTsoLocal } from "../../src/layers/tsoLocal.js"
import type { RaftMessage } from "../../src/protocol/raftServer.js"
import { layerHandlersWith } from "../../src/server/handlers.js"
import { makeRaftHandlers } from "../../src/server/raftHandlers.js"
import { RaftIntake } from "../../src/server/raftIntake.js"
import { layerRpcServer, layerSocketServer } from "../../src/server/serve.js"

export interface PieceSeen {
  readonly transferId: string
  readonly seq: number
  readonly last: boolean
  readonly bytes: number
  /** Snapshot data length inside the piece's message, when it carries one. */
  readonly messageDataBytes: number | undefined
}

/** Starts the store for the lifetime of the current scope. */
export const startRaftStore = Effect.gen(function* () {
  const inbox = yield* Queue.unbounded<RaftMessage>()
  const raftCalls: Array<number> = []
  const pieces: Array<PieceSeen> = []
  const raft = Effect.map(
    // a one-way batch goes through the server's intake when it has one (`src/server/raftIntake.ts`), any other
    // through the `Raft` handler: both are counted
    Effect.tap(
      makeRaftHandlers((m) => Queue.offer(inbox, m)),
      () =>
        Effect.map(Effect.serviceOption(RaftIntake), (slot) => {
          if (Option.isNone(slot) || slot.value.deliver === undefined) return
          const deliver = slot.value.deliver
          slot.value.deliver = (messages) => {
            raftCalls.push(messages.length)
            deliver(messages)
          }
        })
    ),
    (h) => ({
      Raft: (req: Parameters<typeof h.Raft>[0]) => {
        raftCalls.push(req.messages.length)
        return h.Raft(req)
      },
      Snapshot: (piece: Parameters<typeof h.Snapshot>[0]) => {
        pieces.push({
          transferId: piece.transferId,
          seq: piece.seq,
          last: piece.last,
          bytes: piece.data.length,
          messageDataBytes: piece.message?.message.snapshot?.data.length
        })
        return h.Snapshot(piece)
      }
    })
  )
  const server = layerRpcServer(layerHandlersWith(raft)).pipe(
    Layer.provide(Layer.merge(layerStandalone, layerTsoLocal)),
    Layer.provide(layerMemory)
  )
  const ctx = yield* Layer.build(Layer.provideMerge(server, layerSocketServer({ host: "127.0.0.1", port: 0 })))
  const address = (yield* Effect.provide(SocketServer, ctx)).address
  if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
  return { address: `127.0.0.1:${address.port}`, inbox, raftCalls, pieces }
})

/** A loopback address nothing listens on (a port just released). */
export const deadAddress = Effect.async<string>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(`127.0.0.1:${port}`)))
  })
})

/** Open TCP sockets of this process, both ends of in-process connections counted. */
export const openSockets = Effect.sync(
  () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length
)
