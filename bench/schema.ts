/**
 * The cost of checking the hottest payloads: a one-message `Raft` batch (a MsgAppend with one 200-byte
 * entry) and a `RawPut` request, decoded and encoded through their plain Schema and through the fast
 * path derived from it (`src/protocol/fastSchema.ts`), in µs per call (best of 3 runs of 20,000 calls).
 * `npm run bench -- schema`
 */
import { Schema } from "effect"
import { withFastPath } from "../src/protocol/fastSchema.js"
import * as Kv from "../src/protocol/kvrpc.js"
import { RaftMessage } from "../src/protocol/raftServer.js"

const peer = (id: number, storeId: number) => ({ id, storeId })
const raftPayload = {
  messages: [
    {
      regionId: 2,
      fromPeer: peer(3, 1),
      toPeer: peer(4, 2),
      regionEpoch: { confVer: 1, version: 1 },
      isTombstone: false,
      message: {
        msgType: "MsgAppend",
        to: 4,
        from: 3,
        term: 6,
        logTerm: 6,
        index: 100,
        commit: 99,
        reject: false,
        entries: [{ entryType: "EntryNormal", term: 6, index: 101, data: new Uint8Array(200) }]
      }
    }
  ]
}
const rawPut = {
  context: { regionId: 2, regionEpoch: { confVer: 1, version: 1 }, peer: peer(3, 1), term: 6 },
  key: new Uint8Array(11),
  value: new Uint8Array(128),
  cf: "default"
}

const microseconds = (f: () => unknown, n = 20_000) => {
  for (let i = 0; i < 2_000; i++) f()
  let best = Number.POSITIVE_INFINITY
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) f()
    best = Math.min(best, ((performance.now() - t0) * 1000) / n)
  }
  return Math.round(best * 100) / 100
}

const measure = <A, I>(name: string, schema: Schema.Schema<A, I, never>, value: unknown) => {
  const fast = withFastPath(schema)
  return {
    payload: name,
    decodeUs: {
      schema: microseconds(() => Schema.decodeUnknownSync(schema)(value)),
      fastPath: microseconds(() => Schema.decodeUnknownSync(fast)(value))
    },
    encodeUs: {
      schema: microseconds(() => Schema.encodeSync(schema)(value as A)),
      fastPath: microseconds(() => Schema.encodeSync(fast)(value as A))
    }
  }
}

export const run = async (_args: ReadonlyArray<string>) => ({
  bench: "schema",
  results: [
    measure("Raft, 1 MsgAppend of 1 entry", Schema.Struct({ messages: Schema.Array(RaftMessage) }), raftPayload),
    measure("RawPut", Kv.RawPutRequest, rawPut)
  ]
})
