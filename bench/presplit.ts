/**
 * Splitting a fresh cluster's key space before a benchmark, through the scheduler's admin RPC (what
 * `tinykv ctl split` calls): `makeSplitter` splits at sorted keys as a tree (halves in parallel), and
 * `waitSettled` waits until every region has a leader and the leaders stopped moving. Used by `scale` and by
 * `vs-etcd --regions`.
 */
import { Effect } from "effect"
import type { makeCtlClient } from "../src/cli/ctlClient.js"
import type { RegionId } from "../src/protocol/ids.js"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export type Ctl = Effect.Effect.Success<ReturnType<typeof makeCtlClient>>

export const runCtl = <A>(ctl: Ctl, method: string, f: Parameters<Ctl["call"]>[1]) =>
  Effect.runPromise(ctl.call(method, f) as Effect.Effect<A, unknown>)

/** The scheduler's regions, in key order. */
export const scanRegions = (ctl: Ctl) =>
  runCtl<{ regions: ReadonlyArray<{ region: { id: number; startKey: Uint8Array }; leader?: { storeId: number } }> }>(
    ctl,
    "ScanRegionDetails",
    (rpc, header) => rpc.ScanRegionDetails({ header, startKey: new Uint8Array(), endKey: new Uint8Array(), limit: 0 })
  )

export const regionAt = (ctl: Ctl, key: Uint8Array) =>
  runCtl<{ region?: { id: number; startKey: Uint8Array } }>(ctl, "GetRegion", (rpc, header) =>
    rpc.GetRegion({ header, regionKey: key })
  )

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/** Splits the region `regionId` (which holds split keys [lo, hi)) at all of them, halves in parallel. */
export const makeSplitter = (ctl: Ctl, keys: ReadonlyArray<Uint8Array>, concurrency: number) => {
  let running = 0
  const waiting: Array<() => void> = []
  const acquire = async () => {
    while (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
  }
  const release = () => {
    running--
    waiting.shift()?.()
  }
  let done = 0
  let retries = 0
  /** Splits `regionId` at `key`; resolves with the right half's id once the scheduler knows it. */
  const splitOnce = async (regionId: number, key: Uint8Array): Promise<number> => {
    await acquire()
    try {
      for (let attempt = 0; ; attempt++) {
        const known = await regionAt(ctl, key).catch(() => undefined)
        if (known?.region && sameBytes(known.region.startKey, key)) return known.region.id
        if (attempt % 20 === 0) {
          // (again after 20 polls: an operator may time out, or be refused while another one runs)
          await runCtl(ctl, "SplitRegion", (rpc, header) =>
            rpc.SplitRegion({ header, regionId: regionId as RegionId, splitKey: key })
          ).catch(() => {
            retries++
          })
        }
        await sleep(attempt === 0 ? 200 : 400)
      }
    } finally {
      done++
      release()
    }
  }
  const split = async (regionId: number, lo: number, hi: number): Promise<void> => {
    if (lo >= hi) return
    const mid = (lo + hi) >> 1
    const right = await splitOnce(regionId, keys[mid]!)
    await Promise.all([split(regionId, lo, mid), split(right, mid + 1, hi)])
  }
  return { split, progress: () => ({ done, retries }) }
}

/**
 * Waits until the scheduler knows `regions` regions, each with a leader, and for 3 polls in a row no operator
 * runs and no leader moved (operators that start and finish between two polls are seen as moved leaders).
 */
export const waitSettled = async (ctl: Ctl, regions: number, timeoutMs: number, log: (message: string) => void) => {
  const deadline = Date.now() + timeoutMs
  let quiet = 0
  let lastLeaders = ""
  for (;;) {
    const scan = await scanRegions(ctl)
    const ops = await runCtl<{ operators: ReadonlyArray<{ status: string }> }>(ctl, "ListOperators", (rpc, header) =>
      rpc.ListOperators({ header })
    )
    const running = ops.operators.filter((o) => o.status === "RUNNING").length
    const led = scan.regions.filter((r) => r.leader !== undefined).length
    const leaders = new Map<number, number>()
    for (const r of scan.regions) if (r.leader) leaders.set(r.leader.storeId, (leaders.get(r.leader.storeId) ?? 0) + 1)
    log(
      `settling: ${scan.regions.length} regions (${led} with a leader), ${running} operators running, leaders per store ${JSON.stringify(Object.fromEntries(leaders))}`
    )
    const leadersNow = JSON.stringify([...leaders].sort(([a], [b]) => a - b))
    const still = leadersNow === lastLeaders
    lastLeaders = leadersNow
    quiet = scan.regions.length >= regions && led === scan.regions.length && running === 0 && still ? quiet + 1 : 0
    if (quiet >= 3) return { regions: scan.regions.length, leadersPerStore: Object.fromEntries(leaders) }
    if (Date.now() > deadline) throw new Error(`the cluster did not settle: ${scan.regions.length} regions`)
    await sleep(2000)
  }
}
