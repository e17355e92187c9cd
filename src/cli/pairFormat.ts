/**
 * How the data commands print key/value pairs, in the three `-w` formats. Pure.
 *
 * - `simple`: one pair per line, `KEY<TAB>VALUE` (or `KEY` with --keys-only). Text is escaped so a
 *   line is always one pair: `\\` `\t` `\n` `\r` and other control bytes as `\xNN`; with `--hex`,
 *   plain hex. `escapeText`/`unescapeText` are exact inverses, so a line reads back losslessly.
 * - `table`: the same cells, aligned under a KEY / VALUE header.
 * - `json`: one document; each pair as `key`/`value` (the UTF-8 text, or null when the bytes are not
 *   valid UTF-8) and `keyBase64`/`valueBase64` (always, lossless for any bytes).
 */
import { fromUtf8, toHex } from "../protocol/bytes.js"
import { table } from "./ctlFormat.js"

export type OutputFormat = "simple" | "json" | "table"

export interface Pair {
  readonly key: Uint8Array
  /** Absent with --keys-only. */
  readonly value?: Uint8Array | undefined
}

export interface PairJson {
  readonly key: string | null
  readonly keyBase64: string
  readonly value?: string | null
  readonly valueBase64?: string
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true })

/** The bytes as UTF-8 text, or `null` when they are not valid UTF-8. */
export const utf8OrNull = (b: Uint8Array): string | null => {
  try {
    return strictDecoder.decode(b)
  } catch {
    return null
  }
}

export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64")

const NAMED: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" }

/** Text for a line: backslash, tab, newline, CR and the other control characters escaped. */
export const escapeText = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is escaped
  text.replace(/[\\\t\n\r\x00-\x1f\x7f]/g, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)

/** The inverse of `escapeText`. */
export const unescapeText = (text: string): string =>
  text.replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) =>
    e === "t"
      ? "\t"
      : e === "n"
        ? "\n"
        : e === "r"
          ? "\r"
          : e.startsWith("x")
            ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
            : e
  )

/** One cell of `simple` or `table` output. */
export const showCell = (b: Uint8Array, hex: boolean): string => (hex ? toHex(b) : escapeText(fromUtf8(b)))

export const pairJson = (p: Pair): PairJson =>
  p.value === undefined
    ? { key: utf8OrNull(p.key), keyBase64: toBase64(p.key) }
    : { key: utf8OrNull(p.key), keyBase64: toBase64(p.key), value: utf8OrNull(p.value), valueBase64: toBase64(p.value) }

/** A `simple` line (without its newline). */
export const simpleLine = (p: Pair, hex: boolean): string =>
  p.value === undefined ? showCell(p.key, hex) : `${showCell(p.key, hex)}\t${showCell(p.value, hex)}`

export const pairsTable = (pairs: ReadonlyArray<Pair>, hex: boolean, keysOnly: boolean): string =>
  keysOnly
    ? table(
        ["KEY"],
        pairs.map((p) => [showCell(p.key, hex)])
      )
    : table(
        ["KEY", "VALUE"],
        pairs.map((p) => [showCell(p.key, hex), showCell(p.value ?? new Uint8Array(), hex)])
      )

/** The `json` document of a listing: the pairs, their count, and whether more exist past the limit. */
export const pairsDocument = (pairs: ReadonlyArray<Pair>, more: boolean): string =>
  JSON.stringify({ kvs: pairs.map(pairJson), count: pairs.length, more }, null, 2)
