/**
 * One-way calls: a request that carries the header `x-tinykv-one-way` is never answered by the store
 * (`src/server/fastLane.ts`). Only the store-to-store `Raft` batch uses it — its sender discards the
 * answer anyway (`discard: true`), and Raft tolerates the loss of a batch the receiver refuses.
 */
export const ONE_WAY_HEADER = "x-tinykv-one-way"

/** The headers of a one-way call: `client.Raft(payload, { discard: true, headers: oneWayHeaders })`. */
export const oneWayHeaders: Readonly<Record<string, string>> = { [ONE_WAY_HEADER]: "1" }
