/** Keys and values as the client takes them, and the key arithmetic of paging through a range. */
import { utf8 } from "../protocol/bytes.js"

export { prefixEnd, successor } from "../protocol/bytes.js"

/** Bytes, or a string taken as its UTF-8 encoding. */
export type Bytesish = Uint8Array | string

export const toBytes = (b: Bytesish): Uint8Array => (typeof b === "string" ? utf8(b) : b)

/** The column family a raw call names: `default` unless the caller chose one. */
export const cfOf = (o?: { readonly cf?: string | undefined }): string => o?.cf ?? "default"

/** A scan's exclusive end: absent or empty (like a region's empty end key) means the end of the key space. */
export const rangeEnd = (end: Bytesish | undefined): Uint8Array | undefined => {
  const b = end === undefined ? undefined : toBytes(end)
  return b === undefined || b.length === 0 ? undefined : b
}
