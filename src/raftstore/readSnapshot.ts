/**
 * Engine snapshots for reads, taken in the round that answers their `Snap` command — the round that
 * applies it (`readPath: "log"`), or the one where ReadIndex confirmed it and the confirmed index is
 * applied (`readIndexServe.ts`) — and handed over with the reply (TiKV hands the snapshot back in the
 * read's callback the same way).
 *
 * Why in the round: the reply is completed after the round's write, and the reader runs later still. An
 * engine snapshot opened by the reader once it has the reply could see whatever the RaftWorker wrote in
 * between — a peer destroyed, a snapshot installed, a range cleared, later writes. Opened right after the
 * write that applied the `Snap`, before any other write, it holds exactly the state the `Snap` vouches for —
 * unless that same write also destroyed the peer (it applied its own removal after the `Snap`) and so cleared
 * the region's data: such reads are refused instead (`refuseReads`).
 *
 * The reply is a `Deferred` the worker completes; the slot rides beside it, keyed by that `Deferred`, so
 * the command path (Router, proposals, apply) stays as it is. The snapshot joins the reader's scope: a
 * reader that gave up (timed out) has closed its scope, and the snapshot is released as soon as it opens.
 */
import { Deferred, Effect, Either, Scope } from "effect"
import { RegionNotFound, ServerIsBusy } from "../protocol/errorpb.js"
import { errorResponse } from "./responses.js"
import type { RaftCmdRequest, RaftCmdResponse } from "../protocol/raftCmd.js"
import type { Router } from "../services/Router.js"
import type { EngineReader, Storage } from "../services/Storage.js"
import type { Reply } from "./peer.js"

interface Slot {
  readonly scope: Scope.Scope
  reader: EngineReader | undefined
}

// Weak: a reply the worker never reaches (its peer destroyed, its store closed) takes its slot with it.
const slots = new WeakMap<Deferred.Deferred<RaftCmdResponse>, Slot>()

const answersSnap = (r: RaftCmdResponse): boolean =>
  r.header.error === undefined && r.responses.some((x) => x._tag === "Snap")

/** Whether this reply's reader waits for an engine snapshot taken after the round's write. */
export const waitsForSnapshot = (deferred: Deferred.Deferred<RaftCmdResponse>): boolean => slots.has(deferred)

/**
 * For every reply that answers a `Snap`, opens an engine snapshot into its reader's scope. The round runs
 * this right after its write and before it completes the replies. A snapshot the engine cannot open (say
 * every reader slot is taken by other reads in flight) fails that read alone, answered ServerIsBusy for
 * the client to retry: the round, and every other region of the store, goes on.
 */
export const takeReadSnapshots = (storage: Storage["Type"], replies: Array<Reply>): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let i = 0; i < replies.length; i++) {
      const [deferred, response] = replies[i]!
      const slot = slots.get(deferred)
      if (slot === undefined) continue
      slots.delete(deferred)
      if (!answersSnap(response)) continue
      const taken = yield* Effect.either(Scope.extend(storage.snapshot, slot.scope))
      if (Either.isRight(taken)) {
        slot.reader = taken.right
      } else {
        const busy = new ServerIsBusy({ reason: `the engine could not open a snapshot: ${taken.left.message}` })
        replies[i] = [deferred, errorResponse(busy, response.header.currentTerm)]
      }
    }
  })

/**
 * Answers `refusal` instead, from index `from` of `replies` on, every reply that answers a `Snap`: those of a
 * peer whose destruction is in the round's write. Their snapshots would be taken after that write, which
 * clears the region's data, and show it empty; the reader retries with a live peer of the region.
 */
export const refuseReads = (replies: Array<Reply>, from: number, refusal: RaftCmdResponse): void => {
  for (let i = from; i < replies.length; i++) {
    const [deferred, response] = replies[i]!
    if (answersSnap(response)) replies[i] = [deferred, refusal]
  }
}

/**
 * Sends a command holding a `Snap` to its region's peer and waits for the reply (`watch` as the Router's
 * `sendCommand`). With a successful `Snap` response comes the engine snapshot taken when it applied, open
 * until the caller's scope closes.
 */
export const sendRead = (
  router: Router["Type"],
  request: RaftCmdRequest,
  watch?: (reply: Deferred.Deferred<RaftCmdResponse>) => Effect.Effect<void>
): Effect.Effect<
  { readonly response: RaftCmdResponse; readonly reader: EngineReader | undefined },
  RegionNotFound,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const reply = yield* Deferred.make<RaftCmdResponse>()
    const slot: Slot = { scope, reader: undefined }
    slots.set(reply, slot)
    if (watch !== undefined) yield* watch(reply)
    const regionId = request.header.regionId
    yield* router
      .send(regionId, { _tag: "RaftCommand", request, reply })
      .pipe(Effect.mapError(() => new RegionNotFound({ regionId })))
    const response = yield* Deferred.await(reply)
    return { response, reader: answersSnap(response) ? slot.reader : undefined }
  })
