/**
 * Raft `KvStorage` (TinyKV `RaftStorage`): every write is a command through its region's Raft log,
 * acknowledged once committed and applied; every reader is the engine snapshot the leader vouched for when
 * it answered a `Snap` command: opened at once under its lease when the engine holds its commit index
 * (`raftstore/localReader.ts`), else taken in the round that answered it (`raftstore/readSnapshot.ts`) — once
 * ReadIndex confirmed it and the leader applied the confirmed index, or, with `readPath: "log"`, once its
 * entry applied — so it reflects every write acknowledged before the read began (linearizable reads).
 * Region errors come back in the error channel for the client to retry.
 *
 * Keys are local to the call's key space; the raftstore stores them as engine keys of that space, and
 * a reader sees only its space's keys of the region (`protocol/keyspace.ts`).
 */
import { type Deferred, Effect, Layer } from "effect"
import { InvalidArgument, ServerIsBusy } from "../protocol/errorpb.js"
import {
  clampToRange,
  inKeyRange,
  type KeySpace,
  localRange,
  physicalKey,
  physicalOfLocal
} from "../protocol/keyspace.js"
import type { Context } from "../protocol/kvrpc.js"
import type { RaftCmdRequest, RaftCmdResponse, Request } from "../protocol/raftCmd.js"
import { makeCommandDeadlines } from "../raftstore/commandDeadlines.js"
import { sendRead } from "../raftstore/readSnapshot.js"
import { errorResponse } from "../raftstore/responses.js"
import { KvStorage, type KvReader, type Modify } from "../services/KvStorage.js"
import type { EngineReader } from "../services/Storage.js"
import { Router } from "../services/Router.js"
import { stripSpace } from "./kvStorageStandalone.js"

const needContext = new InvalidArgument({
  message: "a replicated store needs the request context (region id, epoch, peer): use the cluster client"
})

const requestFor = (context: Context, requests: ReadonlyArray<Request>): RaftCmdRequest => ({
  header: {
    regionId: context.regionId,
    peer: context.peer,
    regionEpoch: context.regionEpoch,
    term: context.term ?? 0
  },
  requests
})

const commandsOf = (space: KeySpace, batch: ReadonlyArray<Modify>): Array<Request> =>
  batch.map(
    (m): Request =>
      m._tag === "Put"
        ? { _tag: "Put", cf: m.cf, key: m.key, value: m.value, space }
        : { _tag: "Delete", cf: m.cf, key: m.key, space }
  )

const noSnap = new Error("a Snap command answered without a Snap response and its snapshot")

/** The reader a successful `Snap` answer vouches for: `space` of its region only. */
const kvReaderOf = (
  response: RaftCmdResponse,
  reader: EngineReader | undefined,
  space: KeySpace
): KvReader | undefined => {
  const snap = response.responses[0]
  if (snap?._tag !== "Snap" || reader === undefined) return undefined
  const region = snap.region
  // never read past the region: keys beyond it may belong to another region now
  return {
    getCF: (cf, key) =>
      inKeyRange(key, localRange(region, space, cf)) ? reader.get(cf, physicalKey(space, key)) : undefined,
    iterCF: (cf, start, end) =>
      stripSpace(reader.scan(cf, physicalOfLocal(space, clampToRange(localRange(region, space, cf), start, end)))),
    // a Snap is answered only by the leader of the term it was confirmed (ReadIndex) or logged in
    term: response.header.currentTerm
  }
}

export const layerKvStorageRaft = (options: { readonly commandTimeoutMs: number }) =>
  Layer.scoped(
    KvStorage,
    Effect.gen(function* () {
      const router = yield* Router
      const deadlines = yield* makeCommandDeadlines(options.commandTimeoutMs)
      // a write that timed out may have been proposed, and may still apply: its answer says so
      const timedOut = (isWrite: boolean) => () =>
        errorResponse(
          new ServerIsBusy({
            reason: "the command did not apply in time",
            ...(isWrite ? { outcomeUnknown: true } : {})
          })
        )
      const writeTimedOut = timedOut(true)
      const readTimedOut = timedOut(false)
      const watchWrite = (reply: Deferred.Deferred<RaftCmdResponse>) => deadlines.watch(reply, writeTimedOut)
      const watchRead = (reply: Deferred.Deferred<RaftCmdResponse>) => deadlines.watch(reply, readTimedOut)
      const checked = (response: RaftCmdResponse) =>
        response.header.error !== undefined ? Effect.fail(response.header.error) : Effect.succeed(response)
      const watchWriteNow = (reply: Deferred.Deferred<RaftCmdResponse>) => deadlines.watchNow(reply, writeTimedOut)
      const noDeadline = () => Effect.void
      return KvStorage.of({
        write: (context, space: KeySpace, batch) =>
          Effect.gen(function* () {
            if (context === undefined) return yield* Effect.fail(needContext)
            // A transaction's write is waited for until the raftstore answers it (applied, or its index taken by
            // another entry), not until a deadline: its handler holds the keys' latches until then, and a
            // command decided while its entry could still apply would not see it (a rollback decided beside a
            // prewrite still in the log left a lock under its own rollback record: the simulator's seed 40186)
            const watch = space === "txn" ? noDeadline : watchWrite
            yield* checked(yield* router.sendCommand(requestFor(context, commandsOf(space, batch)), watch))
          }),
        writeNow: (context, space, batch, done) =>
          context !== undefined &&
          router.sendCommandNow(requestFor(context, commandsOf(space, batch)), watchWriteNow, (response) =>
            done(response.header.error)
          ),
        reader: (context, space: KeySpace) =>
          Effect.gen(function* () {
            if (context === undefined) return yield* Effect.fail(needContext)
            const request = requestFor(context, [{ _tag: "Snap" }])
            // the leader answers under its lease without its worker when it can (`raftstore/localReader.ts`)
            const { response, reader } =
              (yield* router.readLocal(request)) ?? (yield* sendRead(router, request, watchRead))
            yield* checked(response)
            const kv = kvReaderOf(response, reader, space)
            return kv === undefined ? yield* Effect.die(noSnap) : kv
          }),
        readNow: (context, space, f) => {
          if (context === undefined) return undefined
          const request = requestFor(context, [{ _tag: "Snap" }])
          return router.readLocalNow(request, ({ response, reader }) => {
            const kv = kvReaderOf(response, reader, space)
            if (kv === undefined) throw noSnap
            return f(kv)
          })
        }
      })
    })
  )
