/**
 * Network faults for the in-process transport (`transportMemory.ts`), after TinyKV's test filters
 * (`kv/test_raftstore/filter.go`: `Filter{Before, After}`, `PartitionFilter`, `DropFilter`) and etcd's
 * `rafttest` network controls (`drop`, `cut`, `isolate`, `ignore`, `msgHook`).
 *
 * A filter is a pure function from one delivery to what actually happens to it: nothing (dropped), itself,
 * several copies (duplicated) or a later copy (delayed). Filters compose left to right, each one seeing what
 * the previous ones produced. The only randomness a filter may use is the `random` argument: the network's
 * seeded source, so a failing seed replays the same drops.
 */
import { Duration } from "effect"
import type { MessageType } from "../protocol/eraftpb.js"
import type { StoreId } from "../protocol/ids.js"
import type { RaftMessage } from "../protocol/raftServer.js"

/** One message on one link, as the network is about to deliver it. */
export interface Delivery {
  readonly from: StoreId
  readonly to: StoreId
  readonly message: RaftMessage
  /** Extra latency in milliseconds; 0 means "through the link's FIFO queue, as soon as possible". */
  readonly delayMillis: number
}

/** Maps one delivery to what actually happens to it: `[]` drops it, several entries duplicate it. */
export type Filter = (delivery: Delivery, random: () => number) => ReadonlyArray<Delivery>

/** Restricts a fault to some links; an omitted end matches every store. */
export interface LinkSelector {
  readonly from?: StoreId
  readonly to?: StoreId
}

const selects = (on: LinkSelector, d: Delivery): boolean =>
  (on.from === undefined || on.from === d.from) && (on.to === undefined || on.to === d.to)

/** Applies `filter` to the selected links only; other deliveries pass untouched. */
export const onLink =
  (on: LinkSelector, filter: Filter): Filter =>
  (d, random) =>
    selects(on, d) ? filter(d, random) : [d]

/**
 * Drops each selected message with probability `p` (TinyKV `DropFilter` is `p ≈ 0.1`). The random draw
 * happens only for selected messages, so adding a filter on one link does not shift another link's drops.
 */
export const dropRate = (p: number, on: LinkSelector = {}): Filter =>
  onLink(on, (d, random) => (random() < p ? [] : [d]))

/** Drops every message between a store of `groupA` and a store of `groupB`, both ways (TinyKV `PartitionFilter`). */
export const partition = (groupA: Iterable<StoreId>, groupB: Iterable<StoreId>): Filter => {
  const a = new Set(groupA)
  const b = new Set(groupB)
  return (d) => ((a.has(d.from) && b.has(d.to)) || (b.has(d.from) && a.has(d.to)) ? [] : [d])
}

/** Cuts `storeId` off from every other store, both ways (etcd `isolate`). */
export const isolate =
  (storeId: StoreId): Filter =>
  (d) =>
    d.from !== d.to && (d.from === storeId || d.to === storeId) ? [] : [d]

/** Drops every message of one Raft message type (etcd `ignore`), e.g. `"MsgHeartbeat"`. */
export const ignore = (messageType: MessageType, on: LinkSelector = {}): Filter =>
  onLink(on, (d) => (d.message.message.msgType === messageType ? [] : [d]))

/**
 * Delivers the selected messages `duration` later, timed by Effect's `Clock` (so `TestClock.adjust`
 * releases them). Delayed messages leave the FIFO queue: two messages with different delays may swap.
 */
export const delay = (duration: Duration.DurationInput, on: LinkSelector = {}): Filter => {
  const millis = Duration.toMillis(Duration.decode(duration))
  return onLink(on, (d) => [{ ...d, delayMillis: d.delayMillis + millis }])
}

/** What a hook returns: nothing or `true` passes the delivery on, `false` drops it, an array replaces it. */
export type HookResult = undefined | boolean | ReadonlyArray<Delivery>

/** A message hook (etcd `msgHook`): inspects each delivery and may drop, duplicate or rewrite it. */
export const hook =
  (f: (delivery: Delivery) => HookResult): Filter =>
  (d) => {
    const result = f(d)
    if (result === undefined || result === true) return [d]
    if (result === false) return []
    return result
  }

/** Runs `delivery` through `filters` in order. */
export const applyFilters = (
  filters: ReadonlyArray<Filter>,
  delivery: Delivery,
  random: () => number
): ReadonlyArray<Delivery> => {
  let out: ReadonlyArray<Delivery> = [delivery]
  for (const filter of filters) {
    if (out.length === 0) break
    out = out.flatMap((d) => filter(d, random))
  }
  return out
}
