/**
 * The raw KV API over the two senders: gets, puts and deletes go to the store serving the key; batches
 * are split by region (and into chunks a request can carry); scans and range deletes walk the range
 * region by region, each store answering only for its own range.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { compareBytes, toLatin1 } from "../protocol/bytes.js"
import { MAX_BATCH_KEYS, SCAN_BYTE_BUDGET } from "../protocol/limits.js"
import { cfOf, rangeEnd, toBytes } from "./bytes.js"
import type { ClientError } from "./errors.js"
import { nextAfterPage, scanRange } from "./scanPages.js"
import { contextField, type SendToKey, type SendToKeys } from "./send.js"
import type { KvPair, RawApi, ScanOptions } from "./types.js"

/** Pairs asked per page of a stream: small enough to start at once, large enough to amortise a round trip. */
const STREAM_PAGE = 1000

/** How many chunks of one batch are in flight at once. */
const BATCH_CONCURRENCY = 4

/** Splits a batch into chunks of at most `MAX_BATCH_KEYS` items and about `SCAN_BYTE_BUDGET` bytes. */
const chunked = <T>(items: ReadonlyArray<T>, size: (item: T) => number): ReadonlyArray<ReadonlyArray<T>> => {
  const out: Array<Array<T>> = []
  let current: Array<T> = []
  let bytes = 0
  for (const item of items) {
    const n = size(item)
    if (current.length > 0 && (current.length >= MAX_BATCH_KEYS || bytes + n > SCAN_BYTE_BUDGET)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += n
  }
  if (current.length > 0) out.push(current)
  return out
}

const toPair = (p: { readonly key: Uint8Array; readonly value: Uint8Array }): KvPair => ({ key: p.key, value: p.value })

export const makeRawApi = (send: SendToKey, sendKeys: SendToKeys): RawApi => {
  const rawScanStream = (start: Parameters<RawApi["rawScanStream"]>[0], o?: ScanOptions) => {
    const end = rangeEnd(o?.end)
    const cf = cfOf(o)
    const pages = Stream.paginateChunkEffect(toBytes(start), (from) =>
      end !== undefined && compareBytes(from, end) >= 0
        ? Effect.succeed([Chunk.empty<KvPair>(), Option.none<Uint8Array>()] as const)
        : send(from, "RawScan", (rpc, context, regionEnd) =>
            Effect.map(
              rpc.RawScan({
                ...contextField(context),
                startKey: from,
                limit: STREAM_PAGE,
                cf,
                ...(end === undefined ? {} : { endKey: end }),
                ...(o?.keyOnly === true ? { keyOnly: true } : {})
              }),
              (pairs) => {
                const next = nextAfterPage(pairs, STREAM_PAGE, regionEnd)
                return [Chunk.fromIterable(pairs.map(toPair)), Option.fromNullable(next)] as const
              }
            )
          )
    )
    return o?.limit === undefined ? pages : Stream.take(pages, o.limit)
  }

  return {
    rawGet: (key, o) => {
      const k = toBytes(key)
      return send(k, "RawGet", (rpc, context) => rpc.RawGet({ ...contextField(context), key: k, cf: cfOf(o) })).pipe(
        Effect.map((r) => (r.notFound ? undefined : (r.value ?? new Uint8Array())))
      )
    },
    rawPut: (key, value, o) => {
      const k = toBytes(key)
      const v = toBytes(value)
      return send(k, "RawPut", (rpc, context) =>
        rpc.RawPut({ ...contextField(context), key: k, value: v, cf: cfOf(o) })
      )
    },
    rawDelete: (key, o) => {
      const k = toBytes(key)
      return send(k, "RawDelete", (rpc, context) => rpc.RawDelete({ ...contextField(context), key: k, cf: cfOf(o) }))
    },
    rawScan: (start, o) => {
      const end = rangeEnd(o?.end)
      return scanRange(
        send,
        "RawScan",
        { start: toBytes(start), end, limit: o?.limit ?? 100 },
        (from, limit) => (rpc, context) =>
          rpc.RawScan({
            ...contextField(context),
            startKey: from,
            limit,
            cf: cfOf(o),
            ...(end === undefined ? {} : { endKey: end }),
            ...(o?.keyOnly === true ? { keyOnly: true } : {})
          })
      ).pipe(Effect.map((pairs) => pairs.map(toPair)))
    },
    rawScanStream,
    rawBatchGet: (keys, o) => {
      const ks = keys.map(toBytes)
      const cf = cfOf(o)
      return Effect.forEach(
        chunked(ks, (k) => k.length),
        (chunk) =>
          sendKeys(
            chunk,
            (k) => k,
            "RawBatchGet",
            (part) => (rpc, context) => rpc.RawBatchGet({ ...contextField(context), keys: part, cf })
          ),
        { concurrency: BATCH_CONCURRENCY }
      ).pipe(
        Effect.map((answers) => {
          // answers come per region: put the pairs found back in the order the keys were asked
          const found = new Map<string, KvPair>()
          for (const p of answers.flat(2)) found.set(toLatin1(p.key), toPair(p))
          const out: Array<KvPair> = []
          for (const k of ks) {
            const p = found.get(toLatin1(k))
            if (p !== undefined) out.push(p)
          }
          return out
        })
      )
    },
    rawBatchPut: (pairs, o) => {
      const ps = pairs.map((p) => ({ key: toBytes(p.key), value: toBytes(p.value) }))
      const cf = cfOf(o)
      return Effect.forEach(
        chunked(ps, (p) => p.key.length + p.value.length),
        (chunk) =>
          sendKeys(
            chunk,
            (p) => p.key,
            "RawBatchPut",
            (part) => (rpc, context) => rpc.RawBatchPut({ ...contextField(context), pairs: part, cf })
          ),
        { concurrency: BATCH_CONCURRENCY, discard: true }
      )
    },
    rawBatchDelete: (keys, o) => {
      const cf = cfOf(o)
      return Effect.forEach(
        chunked(keys.map(toBytes), (k) => k.length),
        (chunk) =>
          sendKeys(
            chunk,
            (k) => k,
            "RawBatchDelete",
            (part) => (rpc, context) => rpc.RawBatchDelete({ ...contextField(context), keys: part, cf })
          ),
        { concurrency: BATCH_CONCURRENCY, discard: true }
      )
    },
    rawDeleteRange: (start, o) => {
      const end = rangeEnd(o?.end)
      const cf = cfOf(o)
      // each request deletes a bounded chunk of one region: go on from where it stopped, else from the region's end
      const step = (from: Uint8Array, deleted: number): Effect.Effect<number, ClientError> =>
        end !== undefined && compareBytes(from, end) >= 0
          ? Effect.succeed(deleted)
          : send(from, "RawDeleteRange", (rpc, context, regionEnd) =>
              Effect.map(
                rpc.RawDeleteRange({
                  ...contextField(context),
                  startKey: from,
                  cf,
                  ...(end === undefined ? {} : { endKey: end })
                }),
                (r) => ({ r, regionEnd })
              )
            ).pipe(
              Effect.flatMap(({ r, regionEnd }) => {
                const next = r.resumeKey ?? (regionEnd.length === 0 ? undefined : regionEnd)
                return next === undefined ? Effect.succeed(deleted + r.deleted) : step(next, deleted + r.deleted)
              })
            )
      return step(toBytes(start), 0)
    }
  }
}
