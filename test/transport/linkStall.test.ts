/**
 * A peer that stops reading (a paused process) while its link writes straight to the socket
 * (`src/layers/raftLink.ts`): Node's buffer grows instead of a write failing, so the link must notice the
 * buffer not draining for `batchTimeout`, give the connection up and dial again, rather than keep
 * buffering into a socket nobody reads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Net from "node:net"
import { layerTransportRpc } from "../../src/layers/transportRpc.js"
import { Transport } from "../../src/services/Transport.js"
import { eventually } from "../../src/testing/eventually.js"
import { raftMessage, s1, s2 } from "./fixtures.js"

describe("a link to a store that stopped reading", () => {
  it.scopedLive("gives the connection up once its buffer has not drained for batchTimeout, and dials again", () =>
    Effect.gen(function* () {
      // a listener that accepts and never reads: what a paused process looks like from the sender
      const accepted: Array<{ readonly socket: Net.Socket; closed: boolean }> = []
      const listener = Net.createServer((socket) => {
        socket.pause()
        const seen = { socket, closed: false }
        socket.on("error", () => {})
        socket.on("close", () => {
          seen.closed = true
        })
        accepted.push(seen)
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void listener.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () =>
          Effect.sync(() => {
            for (const a of accepted) a.socket.destroy()
            listener.close()
          })
      )
      const address = `127.0.0.1:${(listener.address() as Net.AddressInfo).port}`
      const transport = yield* Effect.map(
        Layer.build(
          layerTransportRpc({
            resolve: () => Effect.succeed(address),
            batchTimeout: "300 millis",
            backoffInitial: "20 millis",
            backoffMax: "100 millis"
          })
        ),
        Context.get(Transport)
      )
      let index = 1
      const entryData = new Uint8Array(256 * 1024)
      // keep sending (as Raft does) until the link has given up its first connection and dialled a second
      yield* eventually(
        Effect.gen(function* () {
          yield* transport.send([raftMessage({ from: s1, to: s2, index: index++, entryData })])
          return accepted.length >= 2
        }),
        {
          what: "the link to give up the stalled connection and dial again",
          timeout: "30 seconds",
          interval: "20 millis"
        }
      )
      // the listener reads again: what it was sent ends with the link's close of that connection
      accepted[0]!.socket.resume()
      yield* eventually(() => accepted[0]!.closed, { what: "the stalled connection to be closed by the link" })
      assert.isFalse(accepted[1]!.closed, "the new connection is kept")
    })
  )
})
