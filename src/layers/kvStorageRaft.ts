/**
 * Raft `KvStorage` (TinyKV `RaftStorage`): every write is a command through its region's Raft log,
 * acknowledged once committed and applied; every reader is taken after a `Snap` command applied on
 * the leader, so it reflects every write acknowledged before the read began (linearizable reads
 * through the log). Region errors come back in the error channel for the client to retry.
 */
import { Effect, Layer } from "effect"
import { InvalidArgument, ServerIsBusy } from "../protocol/errorpb.js"
import type { Context } from "../protocol/kvrpc.js"
import type { RaftCmdRequest, Request } from "../protocol/raftCmd.js"
import { keyInRegion } from "../raftstore/regionUtil.js"
import { KvStorage, type KvReader } from "../services/KvStorage.js"
import { Router } from "../services/Router.js"
import { Storage } from "../services/Storage.js"

const needContext = new InvalidArgument({
  message: "a replicated store needs the request context (region id, epoch, peer): use the cluster client"
})

export const layerKvStorageRaft = (options: { readonly commandTimeoutMs: number }) =>
  Layer.effect(
    KvStorage,
    Effect.gen(function* () {
      const router = yield* Router
      const storage = yield* Storage
      const command = (context: Context | undefined, requests: ReadonlyArray<Request>) =>
        Effect.gen(function* () {
          if (context === undefined) return yield* Effect.fail(needContext)
          const request: RaftCmdRequest = {
            header: {
              regionId: context.regionId,
              peer: context.peer,
              regionEpoch: context.regionEpoch,
              term: context.term ?? 0
            },
            requests
          }
          const response = yield* router.sendCommand(request).pipe(
            Effect.timeoutFail({
              duration: `${options.commandTimeoutMs} millis`,
              onTimeout: () => new ServerIsBusy({ reason: "the command did not apply in time; retry" })
            })
          )
          if (response.header.error !== undefined) return yield* Effect.fail(response.header.error)
          return response
        })
      return KvStorage.of({
        write: (context, batch) =>
          Effect.asVoid(
            command(
              context,
              batch.map(
                (m): Request =>
                  m._tag === "Put"
                    ? { _tag: "Put", cf: m.cf, key: m.key, value: m.value }
                    : { _tag: "Delete", cf: m.cf, key: m.key }
              )
            )
          ),
        reader: (context) =>
          Effect.gen(function* () {
            const response = yield* command(context, [{ _tag: "Snap" }])
            const snap = response.responses[0]
            if (snap?._tag !== "Snap") return yield* Effect.die("a Snap command answered without a Snap response")
            const region = snap.region
            const reader = yield* storage.snapshot
            return {
              getCF: (cf, key) => (keyInRegion(key, region) ? reader.get(cf, key) : undefined),
              iterCF: (cf, start, end) => {
                // never read past the region: keys beyond it may belong to another region now
                const regionEnd = region.endKey.length > 0 ? region.endKey : undefined
                const stop =
                  end === undefined || end.length === 0
                    ? regionEnd
                    : regionEnd !== undefined && Buffer.compare(regionEnd, end) < 0
                      ? regionEnd
                      : end
                const from = Buffer.compare(start, region.startKey) < 0 ? region.startKey : start
                return reader.scan(cf, { start: from, end: stop })
              }
            } satisfies KvReader
          })
      })
    })
  )
