/**
 * When a region leader reports to the scheduler (PD's rule, in TiKV's `pd_heartbeat_tick_interval`): at
 * once when its report changed — its epoch, its pending peers or its size — and otherwise only every
 * `regionHeartbeatIdleTicks`. A store with thousands of quiet regions would else send one report per region
 * every `regionHeartbeatTicks` (500 ms), which alone keeps the scheduler and every store busy.
 *
 * An operator step the scheduler answers with still goes out at the next report: a step that changes the
 * region (a conf change, a split) or its leader is reported at once by the round (`round.ts`), so the
 * operator's next step follows without waiting; a new operator on a quiet region waits at most the idle
 * interval, or the next store heartbeat, whose answer asks for the reports of regions with an operator
 * (`heartbeat.ts`).
 */
import type { StoreConfig } from "./config.js"
import type { Peer } from "./peer.js"

/** What a region heartbeat says, as a string: equal strings mean the scheduler would learn nothing new. */
export const heartbeatFingerprint = (peer: Peer): string => {
  const { regionEpoch } = peer.region
  const pending = peer
    .pendingPeers()
    .map((p) => p.id)
    .join(",")
  return `${peer.id}|${regionEpoch.version}|${regionEpoch.confVer}|${pending}|${peer.approximateSize ?? 0}`
}

/** Whether a leader should report now (checked every `regionHeartbeatTicks`). */
export const heartbeatDue = (peer: Peer, config: StoreConfig): boolean =>
  peer.ticksSinceHeartbeatSent >= config.regionHeartbeatIdleTicks || heartbeatFingerprint(peer) !== peer.lastHeartbeat

/** Records that `peer`'s report is being sent now. */
export const heartbeatSent = (peer: Peer): void => {
  peer.lastHeartbeat = heartbeatFingerprint(peer)
  peer.ticksSinceHeartbeatSent = 0
}
