/**
 * Branded identifiers and scalar wire types.
 *
 * Ids are JavaScript numbers (safe up to 2^53, far beyond what an id allocator hands out); only
 * timestamps, which pack `physical ms << 18 | logical` and need the full 64 bits, are `bigint`.
 * The Raft core (`src/raft`) uses plain numbers for node ids, terms and indexes: it is a generic
 * library and its tests read better without brands. The store brands at its boundary.
 */
import { Schema } from "effect"

const Id = Schema.Number.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))

export const RegionId = Id.pipe(Schema.brand("RegionId"))
export type RegionId = typeof RegionId.Type

export const PeerId = Id.pipe(Schema.brand("PeerId"))
export type PeerId = typeof PeerId.Type

export const StoreId = Id.pipe(Schema.brand("StoreId"))
export type StoreId = typeof StoreId.Type

/** A non-negative integer counter on the wire: terms, log indexes, epochs, limits. */
export const U64 = Id
export type U64 = typeof U64.Type

/** A TSO timestamp: `physical ms << 18 | logical`, 64 bits. */
export const MAX_U64 = (1n << 64n) - 1n
export const Timestamp = Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(0n, MAX_U64), Schema.brand("Timestamp"))
export type Timestamp = typeof Timestamp.Type

/** Raw bytes; msgpack carries them as `bin`, decoded values arrive as Node `Buffer`s (a `Uint8Array`). */
export const Bytes = Schema.Uint8ArrayFromSelf
export type Bytes = Uint8Array

export const regionId = (n: number): RegionId => n as RegionId
export const peerId = (n: number): PeerId => n as PeerId
export const storeId = (n: number): StoreId => n as StoreId
export const timestamp = (n: bigint | number): Timestamp => BigInt(n) as Timestamp
