/**
 * One pass of the coordinator (PD `coordinator.patrolRegions` + `runScheduler`): the replica checker
 * over every region, then balance-leader and balance-region, each until its limit is reached or it
 * finds nothing to do. Repairs come first — a region short of replicas is at risk, an unbalanced
 * cluster only slower.
 *
 * Why fill the limits in one pass: with one operator per kind per pass, a 2,000-region cluster whose
 * leaders all sat on one store moved one leader a second and took over a quarter of an hour to
 * balance (docs/PERFORMANCE.md, "Scale"). PD's balance-leader likewise schedules a batch at a time.
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
  // each balancer until its limit is reached or it has nothing to propose
  const fill = (kind: "balance-leader" | "balance-region", propose: (v: ClusterView) => Proposal | undefined) => {
    while (underLimit(v, kind)) {
      const p = propose(v)
      if (p === undefined) return
      take(p)
      v = view()
    }
  }
  fill("balance-leader", balanceLeader)
  fill("balance-region", (view) => balanceRegion(view, newPeerId))
  return out
}
