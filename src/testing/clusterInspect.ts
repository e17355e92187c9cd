/**
 * What a TestCluster shows a failing test: every store's view of its regions, and a poll of one store's engine
 * for a value (the cluster's `describe` and `mustEngineHave`).
 */
import { Clock, Effect } from "effect"
import { compareBytes, fromUtf8, utf8 } from "../protocol/bytes.js"
import type { StoreId } from "../protocol/ids.js"
import { ClusterRequestFailed } from "./clusterRequest.js"
import type { StoreSlot } from "./storeSlot.js"

/** One line per running store and region: role, term, leader, indexes and (leader) each follower's progress. */
export const describeSlots = (slots: ReadonlyArray<StoreSlot>): string => {
  const lines: Array<string> = []
  for (const slot of slots) {
    if (slot.running === undefined) {
      lines.push(`store ${slot.id}: stopped`)
      continue
    }
    for (const [regionId, peer] of slot.running.store.peers) {
      const st = peer.rawNode.status()
      const progress = [...peer.rawNode.getProgress()].map(([id, p]) => `${id}:${p.match}/${p.next}`).join(" ")
      lines.push(
        `store ${slot.id} region ${regionId} peer ${peer.id}: ${st.raftState} term ${st.term} lead ${st.lead} ` +
          `commit ${st.commit} applied ${st.applied} last ${peer.storage.lastIndex()} ` +
          `truncated ${peer.storage.truncatedIndex} proposals ${peer.proposals.length}` +
          (progress ? ` progress ${progress}` : "")
      )
    }
  }
  return lines.join("\n")
}

/**
 * Reads `get` every 20 ms until it gives `value` (absent, for `undefined`); fails with what it saw last once
 * `timeoutMs` have passed on the caller's clock.
 */
export const pollEngine = (
  id: StoreId,
  key: string | Uint8Array,
  value: string | undefined,
  timeoutMs: number,
  get: () => Effect.Effect<Uint8Array | undefined, unknown>
) =>
  Effect.gen(function* () {
    const want = value === undefined ? undefined : utf8(value)
    const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
    for (;;) {
      const got = yield* get()
      const same = want === undefined ? got === undefined : got !== undefined && compareBytes(got, want) === 0
      if (same) return
      if ((yield* Clock.currentTimeMillis) > deadline) {
        return yield* Effect.fail(
          new ClusterRequestFailed(
            `store ${id}: ${typeof key === "string" ? key : String(key)} is ${got === undefined ? "absent" : `"${fromUtf8(got)}"`}, expected ${value === undefined ? "absent" : `"${value}"`}`
          )
        )
      }
      yield* Effect.sleep("20 millis")
    }
  })
