/**
 * The files `tinykv load` reads: JSON lines or CSV, one key/value pair per line (CSV: per record).
 *
 * - JSON lines: an object per line with `key` and `value` (UTF-8 text), or `keyBase64` / `valueBase64`
 *   for any bytes — the entries of `scan -w json`'s `kvs`, so `jq -c '.kvs[]'` turns a dump back into
 *   a file to load. A `value` that is not a string (a number, an object) is stored as its JSON text.
 * - CSV: two fields, key and value (quoted when they hold commas, quotes or newlines); a first record
 *   `key,value` is a header and skipped.
 *
 * Every mistake names its line and fails the load before more is written.
 */
import { createInterface } from "node:readline"
import { parse } from "csv-parse"
import { utf8 } from "../protocol/bytes.js"
import { UsageError } from "./usage.js"

export type LoadFormat = "jsonl" | "csv"

export interface LoadPair {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** The format a file name suggests: `.csv` is CSV, anything else JSON lines. */
export const formatOf = (file: string): LoadFormat => (file.toLowerCase().endsWith(".csv") ? "csv" : "jsonl")

const base64 = (text: unknown, field: string, where: string): Uint8Array => {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new UsageError(`${where}: "${field}" is not base64 text`)
  }
  return new Uint8Array(Buffer.from(text, "base64"))
}

/** One JSON line's pair; `where` names the line in messages. */
export const pairFromJson = (line: string, where: string): LoadPair => {
  let o: unknown
  try {
    o = JSON.parse(line)
  } catch (e) {
    throw new UsageError(`${where}: not JSON (${(e as Error).message})`)
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new UsageError(`${where}: not a JSON object`)
  const r = o as Record<string, unknown>
  const key =
    r.keyBase64 !== undefined
      ? base64(r.keyBase64, "keyBase64", where)
      : typeof r.key === "string"
        ? utf8(r.key)
        : undefined
  if (key === undefined || key.length === 0) throw new UsageError(`${where}: no key (a non-empty "key" or "keyBase64")`)
  const value =
    r.valueBase64 !== undefined
      ? base64(r.valueBase64, "valueBase64", where)
      : typeof r.value === "string"
        ? utf8(r.value)
        : r.value !== undefined && r.value !== null
          ? utf8(JSON.stringify(r.value))
          : undefined
  if (value === undefined) throw new UsageError(`${where}: no value ("value" or "valueBase64")`)
  return { key, value }
}

/** One CSV record's pair. */
export const pairFromCsv = (record: ReadonlyArray<string>, where: string): LoadPair => {
  if (record.length !== 2) throw new UsageError(`${where}: expected 2 fields (key,value), found ${record.length}`)
  const key = utf8(record[0]!)
  if (key.length === 0) throw new UsageError(`${where}: the key is empty`)
  return { key, value: utf8(record[1]!) }
}

/** The pairs of `input`, in file order; throws a `UsageError` naming the line of the first mistake. */
export async function* readPairs(input: NodeJS.ReadableStream, format: LoadFormat): AsyncGenerator<LoadPair> {
  if (format === "jsonl") {
    let n = 0
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      n++
      if (line.trim().length > 0) yield pairFromJson(line, `line ${n}`)
    }
    return
  }
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true }))
  let first = true
  for await (const { record, info } of parser as AsyncIterable<{ record: Array<string>; info: { lines: number } }>) {
    const isHeader = first && record.length === 2 && record[0] === "key" && record[1] === "value"
    first = false
    if (!isHeader) yield pairFromCsv(record, `line ${info.lines}`)
  }
}
