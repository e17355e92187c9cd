/**
 * One-way calls: a request that carries the header `x-tinykv-one-way` is never answered by the store
 * (`src/server/fastLane.ts`). Only the store-to-store `Raft` batch uses it: Raft tolerates the loss of
 * a batch the receiver refuses, and an answer per batch would only cost both sides.
 *
 * The sender writes such requests on a socket of its own, without @effect/rpc's client
 * (`src/layers/raftLink.ts`): the client keeps an entry for every call it sent, `discard: true` or not,
 * until an answer removes it — so one-way calls through it would keep one entry each, for ever.
 */
export const ONE_WAY_HEADER = "x-tinykv-one-way"

/** True when a request's encoded `headers` carry `ONE_WAY_HEADER`. */
export const isOneWay = (headers: unknown): boolean => {
  if (!Array.isArray(headers)) return false
  for (const h of headers) if (Array.isArray(h) && h[0] === ONE_WAY_HEADER) return true
  return false
}
