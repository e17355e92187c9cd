/**
 * One pass of the coordinator (PD `coordinator.patrolRegions` + `runScheduler`): the replica checker
 * over every region, then balance-leader and balance-region once each. Repairs come first — a
 * region short of replicas is at risk, an unbalanced cluster only slower.
 *
 * `view` is re-read after every accepted proposal, so limits, busy regions and the in-flight
 * influence of what was just added hold within the pass too.
 */
import { balanceLeader } from "./balanceLeader.js"
import { balanceRegion } from "./balanceRegion.js"
import { checkReplicas } from "./replicaChecker.js"
import { type ClusterView, type NewPeerId, type Proposal, underLimit } from "./view.js"

export const schedulePass = (
  view: () => ClusterView,
  accept: (p: Proposal) => void,
  newPeerId: NewPeerId
): ReadonlyArray<Proposal> => {
  const out: Array<Proposal> = []
  const take = (p: Proposal | undefined): void => {
    if (p === undefined) return
    accept(p)
    out.push(p)
  }
  let v = view()
  for (const info of v.regions) {
    if (!underLimit(v, "replica")) break
    if (v.busyRegions.has(info.region.id)) continue
    const p = checkReplicas(v, info, newPeerId)
    if (p !== undefined) {
      take(p)
      v = view()
    }
  }
  if (underLimit(v, "balance-leader")) {
    take(balanceLeader(v))
    v = view()
  }
  if (underLimit(v, "balance-region")) take(balanceRegion(v, newPeerId))
  return out
}
