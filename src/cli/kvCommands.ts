/**
 * What `tinykv get | put | delete | scan` do, once src/bin has parsed their arguments: the raw KV API
 * from the shell, printed in the `-w` format (`pairFormat.ts`).
 */
import { Chunk, Effect, Option, Stream } from "effect"
import type { TinyKvClient } from "../client/TinyKvClient.js"
import type { KvPair } from "../client/types.js"
import { prefixEnd } from "../protocol/bytes.js"
import { type OutputFormat, pairJson, pairsDocument, pairsTable, showCell, simpleLine } from "./pairFormat.js"
import { printLine, printNote, readStdin, writeOut } from "./stdio.js"
import { type Target, withClient } from "./target.js"
import { parseBytes, UsageError } from "./usage.js"

type Client = TinyKvClient["Type"]

/** What `scan` lists when no --limit is given. */
export const SCAN_DEFAULT_LIMIT = 100

export interface DataArgs {
  readonly target: Target
  readonly cf: string
  readonly hex: boolean
  readonly format: OutputFormat
}

export interface ListArgs {
  /** At most this many pairs (none: all of them). */
  readonly limit: Option.Option<number>
  readonly keysOnly: boolean
  /** Print how many keys the range holds instead of the pairs. */
  readonly count: boolean
}

export interface GetArgs extends DataArgs, ListArgs {
  readonly key: string
  /** KEY is a prefix: every pair whose key starts with it. */
  readonly prefix: boolean
}

export interface ScanArgs extends DataArgs, ListArgs {
  readonly start: string
  readonly end: Option.Option<string>
}

export interface PutArgs extends DataArgs {
  readonly key: string
  /** None: read the value from stdin. */
  readonly value: Option.Option<string>
}

export interface DeleteArgs extends DataArgs {
  readonly key: string
  /** KEY is a prefix: delete every key that starts with it. */
  readonly prefix: boolean
  /** Delete the range KEY <= key < END. */
  readonly end: Option.Option<string>
}

/** `OK`, or its JSON form. */
const printOk = (format: OutputFormat) => printLine(format === "json" ? JSON.stringify({ ok: true }) : "OK")

const checkLimit = (limit: Option.Option<number>) =>
  Option.isSome(limit) && limit.value < 0
    ? Effect.fail(new UsageError("--limit must not be negative"))
    : Effect.succeed(Option.getOrUndefined(limit))

/** Prints the pairs of `[start, end)`, or their count; says (on stderr, or in JSON) when more exist past the limit. */
const list = (client: Client, start: Uint8Array, end: Uint8Array | undefined, args: DataArgs & ListArgs) =>
  Effect.gen(function* () {
    const { cf, hex, format, keysOnly } = args
    const limit = yield* checkLimit(args.limit)
    if (args.count) {
      const n = yield* Stream.runCount(client.rawScanStream(start, { end, cf, keyOnly: true, limit }))
      return yield* printLine(format === "json" ? JSON.stringify({ count: n }) : String(n))
    }
    // one pair past the limit tells whether more exist
    const pairs = client.rawScanStream(start, {
      end,
      cf,
      keyOnly: keysOnly,
      limit: limit === undefined ? undefined : limit + 1
    })
    const shown = (p: KvPair) => (keysOnly ? { key: p.key } : p)
    let printed = 0
    let next: KvPair | undefined
    if (format === "simple") {
      // line by line as pages arrive: a large range never sits in memory
      yield* Stream.runForEachChunk(pairs, (chunk) => {
        const lines: Array<string> = []
        for (const p of Chunk.toReadonlyArray(chunk)) {
          if (limit !== undefined && printed >= limit) next = p
          else {
            lines.push(simpleLine(shown(p), hex))
            printed++
          }
        }
        return lines.length === 0 ? Effect.void : writeOut(`${lines.join("\n")}\n`)
      })
    } else {
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(pairs))
      const kept = limit !== undefined && all.length > limit ? all.slice(0, limit) : all
      next = kept.length < all.length ? all[kept.length] : undefined
      yield* printLine(
        format === "json"
          ? pairsDocument(kept.map(shown), next !== undefined)
          : pairsTable(kept.map(shown), hex, keysOnly)
      )
    }
    if (next !== undefined && format !== "json") {
      yield* printNote(
        `(more results: the next key is ${showCell(next.key, hex)}; raise --limit, or start there to see the rest)`
      )
    }
  })

export const get = (args: GetArgs) =>
  withClient(args.target, (client) =>
    Effect.gen(function* () {
      const key = yield* parseBytes(args.key, args.hex, "key")
      if (args.prefix) {
        if (key.length === 0) return yield* Effect.fail(new UsageError("the prefix must not be empty; use scan"))
        return yield* list(client, key, prefixEnd(key), args)
      }
      if (args.count || args.keysOnly || Option.isSome(args.limit)) {
        return yield* Effect.fail(new UsageError("--count, --keys-only and --limit go with --prefix"))
      }
      const value = yield* client.rawGet(key, { cf: args.cf })
      if (value === undefined) return yield* Effect.fail(new UsageError(`key "${args.key}" not found`))
      switch (args.format) {
        case "json":
          return yield* printLine(JSON.stringify({ kvs: [pairJson({ key, value })], count: 1, more: false }, null, 2))
        case "table":
          return yield* printLine(pairsTable([{ key, value }], args.hex, false))
        case "simple":
          // the value as stored, byte for byte (hex with --hex), then a newline
          return yield* writeOut(args.hex ? `${showCell(value, true)}\n` : Buffer.concat([value, Buffer.from("\n")]))
      }
    })
  )

export const scan = (args: ScanArgs) =>
  withClient(args.target, (client) =>
    Effect.gen(function* () {
      const start = yield* parseBytes(args.start, args.hex, "start key")
      const end = Option.isSome(args.end) ? yield* parseBytes(args.end.value, args.hex, "end key") : undefined
      // a listing stops at 100 pairs unless told otherwise; a count covers the whole range
      const limit = args.count ? args.limit : Option.orElseSome(args.limit, () => SCAN_DEFAULT_LIMIT)
      yield* list(client, start, end, { ...args, limit })
    })
  )

export const put = (args: PutArgs) =>
  withClient(args.target, (client) =>
    Effect.gen(function* () {
      const key = yield* parseBytes(args.key, args.hex, "key")
      const value = Option.isSome(args.value)
        ? yield* parseBytes(args.value.value, args.hex, "value")
        : yield* Effect.flatMap(readStdin("reading the value from stdin"), (bytes) =>
            args.hex
              ? parseBytes(Buffer.from(bytes).toString("utf8").trim(), true, "value on stdin")
              : Effect.succeed(bytes)
          )
      yield* client.rawPut(key, value, { cf: args.cf })
      yield* printOk(args.format)
    })
  )

export const del = (args: DeleteArgs) =>
  withClient(args.target, (client) =>
    Effect.gen(function* () {
      const key = yield* parseBytes(args.key, args.hex, "key")
      if (args.prefix && Option.isSome(args.end)) {
        return yield* Effect.fail(new UsageError("give either --prefix or --end, not both"))
      }
      if (!args.prefix && Option.isNone(args.end)) {
        yield* client.rawDelete(key, { cf: args.cf })
        return yield* printOk(args.format)
      }
      if (args.prefix && key.length === 0) {
        return yield* Effect.fail(new UsageError('the prefix must not be empty (every key: delete "" --end END)'))
      }
      const end = args.prefix ? prefixEnd(key) : yield* parseBytes(Option.getOrThrow(args.end), args.hex, "end key")
      const deleted = yield* client.rawDeleteRange(key, { end, cf: args.cf })
      yield* printLine(args.format === "json" ? JSON.stringify({ deleted }) : `deleted ${deleted}`)
    })
  )
