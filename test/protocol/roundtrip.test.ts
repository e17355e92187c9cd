/**
 * Every wire message survives encode → msgpack → decode unchanged. Values are generated from the
 * Schemas themselves (`Arbitrary.make`), so a new field is covered the day it is added.
 */
import { describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import * as fc from "fast-check"
import { Packr, Unpackr } from "msgpackr"
import * as Eraft from "../../src/protocol/eraftpb.js"
import * as Err from "../../src/protocol/errorpb.js"
import * as Kv from "../../src/protocol/kvrpc.js"
import * as Meta from "../../src/protocol/metapb.js"
import * as Cmd from "../../src/protocol/raftCmd.js"
import * as RaftServer from "../../src/protocol/raftServer.js"
import * as Sched from "../../src/protocol/scheduler.js"

// the same options @effect/rpc's msgpack serialization uses
const packr = new Packr({ useRecords: true })
const unpackr = new Unpackr({ useRecords: true })

const pick = (mod: Record<string, unknown>) =>
  Object.entries(mod).filter(([, v]) => Schema.isSchema(v)) as Array<[string, Schema.Schema<any, any, never>]>

const modules = { Eraft, Meta, Err, Cmd, RaftServer, Kv, Sched }

/** Deep equality that treats Buffer and Uint8Array with the same bytes as equal. */
const normalize = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) }
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (k !== "stack") out[k] = normalize(x)
    return out
  }
  return v
}

describe("wire protocol round trip", () => {
  for (const [modName, mod] of Object.entries(modules)) {
    for (const [name, schema] of pick(mod as Record<string, unknown>)) {
      it.effect(`${modName}.${name}: encode → msgpack → decode is the identity`, () =>
        Effect.sync(() => {
          const encode = Schema.encodeSync(schema)
          const decode = Schema.decodeUnknownSync(schema)
          fc.assert(
            fc.property(Arbitrary.make(schema), (value) => {
              const wire = unpackr.unpack(packr.pack(encode(value)))
              const back = decode(wire)
              const a = JSON.stringify(normalize(back), (_k, x) => (typeof x === "bigint" ? `${x}n` : x))
              const b = JSON.stringify(normalize(value), (_k, x) => (typeof x === "bigint" ? `${x}n` : x))
              if (a !== b) throw new Error(`${name} changed on the wire:\n${b}\n${a}`)
            }),
            { numRuns: 40 }
          )
        })
      )
    }
  }

  it.effect("a TaggedError decodes to an instance that is an Error and keeps its tag", () =>
    Effect.gen(function* () {
      const e = new Err.NotLeader({ regionId: 7 as never, leader: { id: 2 as never, storeId: 1 as never } })
      const wire = unpackr.unpack(packr.pack(yield* Schema.encode(Err.KvError)(e)))
      const back = yield* Schema.decodeUnknown(Err.KvError)(wire)
      if (!(back instanceof Err.NotLeader) || !(back instanceof Error) || back.regionId !== 7) {
        throw new Error(`decoded ${JSON.stringify(back)}`)
      }
    })
  )

  it.effect("an invalid message is rejected, not passed on", () =>
    Effect.gen(function* () {
      const bad = { entryType: "EntryNormal", term: -1, index: 1, data: new Uint8Array() }
      const r = yield* Effect.either(Schema.decodeUnknown(Eraft.Entry)(bad))
      if (r._tag !== "Left") throw new Error("a negative term decoded")
    })
  )
})
