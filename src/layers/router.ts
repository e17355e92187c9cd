/**
 * The live `Router` of a raftstore: it only reads the `PeerRegistry` and enqueues (or reads locally under a
 * leader's lease, `raftstore/localReader.ts`) — to the RaftWorker's
 * mailbox for a region with a live peer, to the StoreWorker's for a Raft message whose peer is missing or
 * closing. It never touches a peer's state. A closed store, a failed region and a stopped peer are
 * refused at once (MailboxClosed), an unknown region too (PeerNotFound): a command is never queued where
 * nobody would answer it.
 */
import { Deferred, Effect, Exit, FiberId, Layer, Option, Queue } from "effect"
import { RegionNotFound, ServerIsBusy } from "../protocol/errorpb.js"
import type { RegionId } from "../protocol/ids.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { RaftMessage } from "../protocol/raftServer.js"
import { makeLocalReader } from "../raftstore/localReader.js"
import { PeerRegistry } from "../raftstore/peerRegistry.js"
import { whenDone } from "../raftstore/replyCallback.js"
import { errorResponse } from "../raftstore/responses.js"
import { commandReplied, traceCommand } from "../raftstore/tracing.js"
import {
  MAX_WAITING_RAFT_MESSAGES,
  MailboxClosed,
  type PeerMsg,
  PeerNotFound,
  Router,
  type StoreMsg
} from "../services/Router.js"
import { Storage } from "../services/Storage.js"

/** The answer to a command whose reply was interrupted rather than answered (nothing completes one so today). */
const interrupted = (regionId: RegionId): RaftCmdResponse =>
  errorResponse(
    new ServerIsBusy({ reason: `the command to region ${regionId} was interrupted`, outcomeUnknown: true }),
    0
  )

export const makeRouter = (registry: PeerRegistry["Type"], storage: Storage["Type"]): Router["Type"] => {
  // whether the region has a live peer here to take a message: undefined, or why not
  const refusal = (regionId: RegionId): PeerNotFound | MailboxClosed | undefined => {
    if (registry.isClosed() || registry.failed.has(regionId)) return new MailboxClosed({ regionId })
    const peer = registry.peers.get(regionId)
    if (peer === undefined) return new PeerNotFound({ regionId })
    return peer.stopped ? new MailboxClosed({ regionId }) : undefined
  }
  const send = (regionId: RegionId, msg: PeerMsg): Effect.Effect<void, PeerNotFound | MailboxClosed> => {
    const refused = refusal(regionId)
    return refused !== undefined
      ? Effect.fail(refused)
      : Queue.offer(registry.raftMailbox, { _tag: "Peer", regionId, msg })
  }
  const sendStore = (msg: StoreMsg): Effect.Effect<void> =>
    Effect.suspend(() => (registry.isClosed() ? Effect.void : Queue.offer(registry.storeMailbox, msg)))
  // the same choices as `sendRaftMessage` below, taken at once: both mailboxes are unbounded queues
  const sendRaftMessageNow = (message: RaftMessage): boolean => {
    if (registry.isClosed()) return true
    const regionId = message.regionId
    const peer = registry.peers.get(regionId)
    if (registry.failed.has(regionId) || peer === undefined || peer.stopped) {
      return registry.storeMailbox.unsafeOffer({ _tag: "RaftMessage", message })
    }
    const waiting = Option.getOrElse(registry.raftMailbox.unsafeSize(), () => 0)
    if (waiting >= MAX_WAITING_RAFT_MESSAGES) return false
    return registry.raftMailbox.unsafeOffer({ _tag: "Peer", regionId, msg: { _tag: "RaftMessage", message } })
  }
  // `send` taken at once: false when `send` would fail
  const sendCommandNow: Router["Type"]["sendCommandNow"] = (request, watch, onReply) => {
    const regionId = request.header.regionId
    if (refusal(regionId) !== undefined) return false
    const reply = Deferred.unsafeMake<RaftCmdResponse>(FiberId.none)
    // a mailbox shut down meanwhile takes nothing: nothing is watched, and `sendCommand` answers instead
    if (!registry.raftMailbox.unsafeOffer({ _tag: "Peer", regionId, msg: { _tag: "RaftCommand", request, reply } })) {
      return false
    }
    // the reply cannot be completed before this: only a later round or the deadline completes it
    watch(reply)
    whenDone(reply, (exit) => onReply(Exit.isSuccess(exit) ? exit.value : interrupted(regionId)))
    return true
  }
  const local = makeLocalReader(registry, storage)
  return Router.of({
    send,
    readLocal: local.read,
    readLocalNow: local.readNow,
    sendStore,
    sendRaftMessage: (message) =>
      send(message.regionId, { _tag: "RaftMessage", message }).pipe(
        Effect.catchTags({
          PeerNotFound: () => sendStore({ _tag: "RaftMessage", message }),
          MailboxClosed: () => sendStore({ _tag: "RaftMessage", message })
        }),
        Effect.asVoid
      ),
    sendRaftMessageNow,
    sendCommandNow,
    sendCommand: (request: RaftCmdRequest, watch) =>
      Effect.gen(function* () {
        const reply = yield* Deferred.make<RaftCmdResponse>()
        yield* traceCommand(reply)
        if (watch !== undefined) yield* watch(reply)
        return yield* send(request.header.regionId, { _tag: "RaftCommand", request, reply }).pipe(
          Effect.mapError(() => new RegionNotFound({ regionId: request.header.regionId })),
          Effect.zipRight(Deferred.await(reply)),
          Effect.onExit((exit) => Effect.sync(() => commandReplied(reply, exit)))
        )
      })
  })
}

export const layerRouter: Layer.Layer<Router, never, PeerRegistry | Storage> = Layer.effect(
  Router,
  Effect.zipWith(PeerRegistry, Storage, makeRouter)
)
