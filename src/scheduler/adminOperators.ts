/**
 * What an admin asks of a region (`tinykv ctl operator add …`, `tinykv ctl split`), checked against
 * the region as last reported and turned into operator steps. Pure: the caller supplies the peer id.
 */
import { compareBytes } from "../protocol/bytes.js"
import type { PeerId, StoreId } from "../protocol/ids.js"
import type { AdminOperatorKind } from "../protocol/scheduler.js"
import { fail, ok, type Result } from "./errors.js"
import type { OperatorStep } from "./operator.js"
import type { RegionInfo } from "./regionInfo.js"
import type { StoreInfo } from "./stores.js"

export interface AdminPlan {
  readonly desc: string
  readonly steps: ReadonlyArray<OperatorStep>
}

export const planAdminOperator = (
  info: RegionInfo,
  kind: AdminOperatorKind,
  store: StoreInfo | undefined,
  storeId: StoreId,
  newPeerId: () => PeerId
): Result<AdminPlan> => {
  const id = info.region.id
  const here = info.region.peers.find((p) => p.storeId === storeId)
  if (store === undefined) return fail("STORE_NOT_FOUND", `store ${storeId} not found`)
  switch (kind) {
    case "add-peer":
      if (store.store.state === "Tombstone") return fail("STORE_TOMBSTONE", `store ${storeId} is a tombstone`)
      if (here !== undefined) return fail("UNKNOWN", `region ${id} already has peer ${here.id} on store ${storeId}`)
      return ok({
        desc: `admin: add peer on store ${storeId}`,
        steps: [{ _tag: "AddPeer", toStore: storeId, peerId: newPeerId() }]
      })
    case "remove-peer":
      if (here === undefined) return fail("UNKNOWN", `region ${id} has no peer on store ${storeId}`)
      return ok({ desc: `admin: remove peer on store ${storeId}`, steps: [{ _tag: "RemovePeer", fromStore: storeId }] })
    case "transfer-leader": {
      if (here === undefined) return fail("UNKNOWN", `region ${id} has no peer on store ${storeId}`)
      const from = info.leader?.storeId
      if (from === undefined) return fail("UNKNOWN", `region ${id} has no known leader yet`)
      return ok({
        desc: `admin: transfer leader to store ${storeId}`,
        steps: [{ _tag: "TransferLeader", fromStore: from, toStore: storeId }]
      })
    }
  }
}

/** A split at `key` (which must fall strictly inside the region), or where the store decides. */
export const planSplit = (info: RegionInfo, key: Uint8Array | undefined): Result<AdminPlan> => {
  const { region } = info
  if (key === undefined)
    return ok({ desc: "admin: split (store picks the key)", steps: [{ _tag: "SplitRegion", keys: [] }] })
  const inside =
    compareBytes(key, region.startKey) > 0 && (region.endKey.length === 0 || compareBytes(key, region.endKey) < 0)
  if (!inside) return fail("UNKNOWN", `split key is not strictly inside region ${region.id}`)
  return ok({ desc: "admin: split at the given key", steps: [{ _tag: "SplitRegion", keys: [key] }] })
}
