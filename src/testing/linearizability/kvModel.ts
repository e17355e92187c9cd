/**
 * The key-value register model for the linearizability checker: puts, deletes, gets and range scans over
 * string keys and values (callers render bytes as hex or ASCII, whichever sorts like the store's keys).
 *
 * The history is split per key. A scan is projected onto every key of the run that falls in the range it
 * certainly covered (to `end`, or to its last pair when it stopped at its limit) as a get of that key with the
 * value the scan returned or "absent". Checked per key, a scan is thereby held to every single-key guarantee;
 * that its keys were read at one instant (a multi-key property) is the transactional checks' job.
 */
import type { Model } from "./checker.js"
import type { Operation } from "./history.js"

export type KvInput =
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "get"; readonly key: string }
  /** `end` undefined = to the end of the key space. */
  | { readonly kind: "scan"; readonly start: string; readonly end: string | undefined; readonly limit: number }

/** A get's value (`undefined` = absent); a scan's pairs in key order; nothing for writes. */
export type KvOutput =
  | { readonly kind: "value"; readonly value: string | undefined }
  | { readonly kind: "pairs"; readonly pairs: ReadonlyArray<readonly [string, string]> }
  | { readonly kind: "done" }

type KvOp = Operation<KvInput, KvOutput>

const keyOf = (input: KvInput): string | undefined => (input.kind === "scan" ? undefined : input.key)

/** One get per key in the range the scan certainly observed. */
const projectScan = (op: KvOp, keys: ReadonlyArray<string>): Array<KvOp> => {
  if (op.input.kind !== "scan") return []
  const { start, end, limit } = op.input
  if (op.output === undefined || op.output.kind !== "pairs") return [] // unknown outcome: a read tells nothing
  const pairs = op.output.pairs
  const full = pairs.length >= limit
  const last = full && pairs.length > 0 ? pairs[pairs.length - 1]![0] : undefined
  const found = new Map(pairs)
  const out: Array<KvOp> = []
  for (const key of keys) {
    if (key < start || (end !== undefined && end !== "" && key >= end)) continue
    if (full && (last === undefined || key > last)) continue
    out.push({ ...op, input: { kind: "get", key }, output: { kind: "value", value: found.get(key) } })
  }
  return out
}

export const kvModel: Model<string | undefined, KvInput, KvOutput> = {
  init: () => undefined,
  step: (state, input, output, indefinite) => {
    switch (input.kind) {
      case "put":
        return { state: input.value }
      case "delete":
        return { state: undefined }
      case "get":
        if (indefinite || output === undefined) return { state } // a read with no answer constrains nothing
        return output.kind === "value" && output.value === state ? { state } : undefined
      case "scan":
        throw new Error("scans are projected onto gets by the partition")
    }
  },
  // a marker that no value equals, so "absent" and any value never share a memo entry
  key: (state) => (state === undefined ? "\u0000absent" : `=${state}`),
  partition: (ops) => {
    const keys = new Set<string>()
    for (const op of ops) {
      const k = keyOf(op.input)
      if (k !== undefined) keys.add(k)
    }
    const sorted = [...keys].sort()
    const byKey = new Map<string, Array<KvOp>>(sorted.map((k) => [k, []]))
    for (const op of ops) {
      const k = keyOf(op.input)
      if (k !== undefined) byKey.get(k)!.push(op)
      else for (const get of projectScan(op, sorted)) byKey.get((get.input as { key: string }).key)!.push(get)
    }
    // a projected scan shares its id with other keys' projections: ids need only be unique within a part
    return [...byKey.values()]
  },
  describe: (op) => {
    const i = op.input
    const o = op.output
    const result = o === undefined ? "?" : o.kind === "value" ? (o.value ?? "absent") : o.kind === "done" ? "ok" : ""
    switch (i.kind) {
      case "put":
        return `put ${i.key}=${i.value} → ${result}`
      case "delete":
        return `delete ${i.key} → ${result}`
      case "get":
        return `get ${i.key} → ${result}`
      case "scan":
        return `scan [${i.start}, ${i.end ?? ""}) limit ${i.limit}`
    }
  }
}
