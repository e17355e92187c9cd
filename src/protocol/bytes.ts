/** Byte-string helpers shared by every layer: comparison, text and hex conversion, latin1 map keys. */

/** Byte-wise lexicographic order: the order of every engine and every key range. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && compareBytes(a, b) === 0

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const utf8 = (s: string): Uint8Array => encoder.encode(s)
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b)

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

/** Parses an even-length hex string; `undefined` when it is not one. */
export const fromHex = (s: string): Uint8Array | undefined =>
  /^(?:[0-9a-fA-F]{2})*$/.test(s) ? new Uint8Array(Buffer.from(s, "hex")) : undefined

/**
 * One JS string char per byte. JS compares strings by UTF-16 code unit, and latin1 maps bytes
 * 0–255 to code units 0–255, so these strings sort exactly like the bytes (used as map keys).
 */
export const toLatin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")
export const fromLatin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"))

/** True when `key` lies in `[start, end)`; an empty `end` is unbounded. */
export const inRange = (key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean =>
  compareBytes(key, start) >= 0 && (end.length === 0 || compareBytes(key, end) < 0)

/** The smallest key after `key` (`key` with a zero byte appended). */
export const successor = (key: Uint8Array): Uint8Array => {
  const next = new Uint8Array(key.length + 1)
  next.set(key)
  return next
}

/**
 * The exclusive end of the keys that start with `prefix`: the prefix with its last byte below 0xff
 * incremented (and what follows dropped); `undefined` when every key from `prefix` on has it
 * (an empty or all-0xff prefix), i.e. to the end of the key space.
 */
export const prefixEnd = (prefix: Uint8Array): Uint8Array | undefined => {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1)
      end[i]! += 1
      return end
    }
  }
  return undefined
}

/** A key for a message: quoted text when it is printable UTF-8, else 0x-prefixed hex. */
export const showKey = (key: unknown): string => {
  if (!(key instanceof Uint8Array)) return String(key)
  const text = fromUtf8(key)
  // letters, digits, punctuation, symbols and spaces; controls or invalid UTF-8 (U+FFFD) read better as hex
  return /^[\p{L}\p{N}\p{P}\p{S} ]*$/u.test(text) && !text.includes("\uFFFD") ? JSON.stringify(text) : `0x${toHex(key)}`
}
