/**
 * Store-to-store Raft batches taken as their frames are read: the connection's serialization hands every
 * one-way `Raft` request (`src/protocol/oneWay.ts`) to `RaftIntake`, which checks its payload with the
 * request's Schema and puts the messages into the Raft handlers' inbox at once — before @effect/rpc's server
 * sees the request, so no fiber is made for the socket chunk that carried it, and none for the request.
 *
 * Why: each socket chunk a store reads becomes a fiber of @effect/rpc's server, and a follower reads two per
 * replicated put (the append, then the commit): about a fifth of a follower's run-loop steps per put
 * (docs/PERFORMANCE.md, "Links written in place"). A chunk whose every frame was taken here costs none.
 *
 * What is the same as before: the inbox keeps arrival order (one synchronous offer per batch), a payload
 * the Schema refuses is logged and dropped (its sender would discard a refusal), a delivered request counts
 * in `tinykv_requests_total{command="Raft"}`. Until the Raft handlers are built (a standalone store never
 * builds them) nothing is taken, and the request goes through the fast lane as before (`fastLane.ts`).
 */
import { Context, Either, Layer, Schema } from "effect"
import { isOneWay } from "../protocol/oneWay.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { RaftPayload } from "../protocol/rpcs.js"
import { storeRequests } from "./metrics.js"

export interface RaftIntakeSlot {
  /** Set by the Raft handlers (`raftHandlers.ts`): puts one batch into their inbox, in order. */
  deliver: ((messages: ReadonlyArray<RaftMessage>) => void) | undefined
}

export class RaftIntake extends Context.Tag("tinykv/server/RaftIntake")<RaftIntake, RaftIntakeSlot>() {}

/** One slot per server: the handlers fill it, the serialization of every connection reads it. */
export const layerRaftIntake: Layer.Layer<RaftIntake> = Layer.sync(RaftIntake, () => ({ deliver: undefined }))

const decodePayload = Schema.decodeUnknownEither(RaftPayload)

/**
 * The serialization's hook (`makeFramedMsgPack`'s `intake`): true when `message` was a one-way `Raft`
 * request and is dealt with (delivered, or refused and reported with `refused`).
 */
export const takeOneWayRaft =
  (slot: RaftIntakeSlot, refused: (reason: string) => void) =>
  (message: unknown): boolean => {
    const deliver = slot.deliver
    if (deliver === undefined) return false
    const m = message as { _tag?: unknown; tag?: unknown; id?: unknown; headers?: unknown; payload?: unknown }
    if (m._tag !== "Request" || m.tag !== "Raft" || typeof m.id !== "string" || !isOneWay(m.headers)) return false
    const started = performance.now()
    const payload = decodePayload(m.payload)
    if (Either.isLeft(payload)) {
      refused("dropped a one-way Raft batch: not a valid payload")
      return true
    }
    deliver(payload.right.messages)
    storeRequests.record("Raft", "ok", (performance.now() - started) / 1000)
    return true
  }
