/** `tinykv ctl`: look at and steer the cluster through its scheduler (stores, regions, operators, splits). */
import { Args, Command, Options } from "@effect/cli"
import { Config, Console, Effect } from "effect"
import type { CtlClient } from "../../cli/ctlClient.js"
import {
  operatorRow,
  operatorsTable,
  regionContains,
  regionRow,
  regionsTable,
  storeRow,
  storesTable
} from "../../cli/ctlFormat.js"
// type-only: the ids module builds Schemas when it loads, which every other command would pay for
import type { RegionId, StoreId } from "../../protocol/ids.js"
import type { AdminOperatorKind } from "../../protocol/scheduler.js"
import { checkAddress, formatOption, hexOption, lazy, parseBytes, reportErrors, UsageError } from "./common.js"
import { type TlsFlags, tlsFileOptions, tlsFromFlags } from "./tlsOptions.js"

/** The scheduler's address, and how to reach it (plain TCP, or mutual TLS with the TLS flags). */
const schedulerOption = Options.all({
  address: Options.text("scheduler").pipe(
    Options.withDefault("127.0.0.1:2379"),
    Options.withFallbackConfig(Config.string("TINYKV_SCHEDULER")),
    Options.withDescription("address HOST:PORT of the cluster's scheduler; env TINYKV_SCHEDULER")
  ),
  ...tlsFileOptions
})
const jsonOption = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table"))

const withCtl = <A>(
  scheduler: { readonly address: string } & TlsFlags,
  f: (c: CtlClient) => Effect.Effect<A, UsageError>
) =>
  reportErrors(
    Effect.gen(function* () {
      const address = yield* checkAddress(scheduler.address)
      const tls = yield* tlsFromFlags(scheduler)
      const { makeCtlClient } = yield* Effect.promise(() => import("../../cli/ctlClient.js"))
      const { loadTlsCredentials } = yield* Effect.promise(() => import("../../rpc/tlsCredentials.js"))
      const credentials = tls === undefined ? undefined : yield* loadTlsCredentials(tls)
      return yield* f(yield* makeCtlClient(address, undefined, credentials))
    }).pipe(Effect.scoped)
  )

const print = <R>(json: boolean, rows: R, text: (rows: R) => string) =>
  Console.log(json ? JSON.stringify(rows, null, 2) : text(rows))

const stores = Command.make("stores", { scheduler: schedulerOption, json: jsonOption }, ({ scheduler, json }) =>
  withCtl(scheduler, (c) =>
    c
      .call("GetAllStores", (rpc, header) => rpc.GetAllStores({ header, excludeTombstoneStores: false }))
      .pipe(Effect.flatMap((r) => print(json, r.details.map(storeRow), storesTable)))
  )
).pipe(Command.withDescription("List the stores: state, region and leader counts, capacity, last heartbeat."))

const scanAll = (c: CtlClient, startKey: Uint8Array, limit: number) =>
  c.call("ScanRegionDetails", (rpc, header) =>
    rpc.ScanRegionDetails({ header, startKey, endKey: new Uint8Array(), limit })
  )

const regions = Command.make("regions", { scheduler: schedulerOption, json: jsonOption }, ({ scheduler, json }) =>
  withCtl(scheduler, (c) =>
    scanAll(c, new Uint8Array(), 0).pipe(Effect.flatMap((r) => print(json, r.regions.map(regionRow), regionsTable)))
  )
).pipe(Command.withDescription("List the regions in key order: range (hex), epoch, peers, leader, size."))

const region = Command.make(
  "region",
  { key: Args.text({ name: "KEY" }), hex: hexOption, scheduler: schedulerOption, json: jsonOption },
  ({ key, hex, scheduler, json }) =>
    withCtl(scheduler, (c) =>
      Effect.gen(function* () {
        const k = yield* parseBytes(key, hex, "key")
        const found = (yield* scanAll(c, k, 1)).regions.find((d) => regionContains(d, k))
        if (found === undefined) return yield* Effect.fail(new UsageError(`no region is known for key "${key}"`))
        yield* print(json, regionRow(found), (r) => regionsTable([r]))
      })
    )
).pipe(Command.withDescription("Show the region holding KEY."))

const regionIdArg = Args.integer({ name: "REGION_ID" })
const storeIdArg = Args.integer({ name: "STORE_ID" })

const addOperator = (kind: AdminOperatorKind, what: string) =>
  Command.make(
    kind,
    { region: regionIdArg, store: storeIdArg, scheduler: schedulerOption, json: jsonOption },
    ({ region, store, scheduler, json }) =>
      withCtl(scheduler, (c) =>
        c
          .call("AddOperator", (rpc, header) =>
            rpc.AddOperator({ header, regionId: region as RegionId, kind, storeId: store as StoreId })
          )
          .pipe(Effect.flatMap((op) => print(json, operatorRow(op), (r) => `added: region ${r.regionId}: ${r.desc}`)))
      )
  ).pipe(Command.withDescription(what))

const operatorAdd = Command.make("add").pipe(
  Command.withDescription("Queue an operator for a region; it replaces any running one."),
  Command.withSubcommands([
    addOperator("transfer-leader", "Move REGION_ID's leadership to its peer on STORE_ID."),
    addOperator("add-peer", "Add a replica of REGION_ID on STORE_ID."),
    addOperator("remove-peer", "Remove REGION_ID's replica on STORE_ID.")
  ])
)

const operatorShow = Command.make("show", { scheduler: schedulerOption, json: jsonOption }, ({ scheduler, json }) =>
  withCtl(scheduler, (c) =>
    c
      .call("ListOperators", (rpc, header) => rpc.ListOperators({ header }))
      .pipe(Effect.flatMap((r) => print(json, r.operators.map(operatorRow), operatorsTable)))
  )
).pipe(Command.withDescription("List running operators, then the last finished one of every other region."))

const operator = Command.make("operator").pipe(
  Command.withDescription("Show or add operators (the steps the scheduler hands to region leaders)."),
  Command.withSubcommands([operatorAdd, operatorShow])
)

const split = Command.make(
  "split",
  {
    region: regionIdArg,
    key: Options.text("key").pipe(Options.optional, Options.withDescription("split at KEY (default: the store picks)")),
    hex: hexOption,
    scheduler: schedulerOption,
    json: jsonOption
  },
  ({ region, key, hex, scheduler, json }) =>
    withCtl(scheduler, (c) =>
      Effect.gen(function* () {
        const splitKey = key._tag === "Some" ? yield* parseBytes(key.value, hex, "key") : undefined
        const op = yield* c.call("SplitRegion", (rpc, header) =>
          rpc.SplitRegion(
            splitKey === undefined
              ? { header, regionId: region as RegionId }
              : { header, regionId: region as RegionId, splitKey }
          )
        )
        yield* print(json, operatorRow(op), (r) => `split requested: region ${r.regionId}: ${r.desc}`)
      })
    )
).pipe(Command.withDescription("Ask REGION_ID's leader to split it (recorded as a split operator)."))

const setStoreState = (name: string, state: "Up" | "Offline", what: string, done: string) =>
  Command.make(name, { store: storeIdArg, scheduler: schedulerOption }, ({ store, scheduler }) =>
    withCtl(scheduler, (c) =>
      c
        .call("SetStoreState", (rpc, header) => rpc.SetStoreState({ header, storeId: store as StoreId, state }))
        .pipe(Effect.zipRight(Console.log(`store ${store}: ${done}`)))
    )
  ).pipe(Command.withDescription(what))

const storeCommand = Command.make("store").pipe(
  Command.withDescription("Remove a store from the cluster, or take it back."),
  Command.withSubcommands([
    setStoreState(
      "delete",
      "Offline",
      "Drain STORE_ID: its replicas move to other stores, then it becomes a Tombstone (for good).",
      "Offline; its replicas are being moved off"
    ),
    setStoreState("up", "Up", "Cancel a delete that has not finished (Offline → Up).", "Up")
  ])
)

const health = Command.make("health", { scheduler: schedulerOption, format: formatOption }, ({ scheduler, format }) =>
  reportErrors(
    Effect.gen(function* () {
      const address = yield* checkAddress(scheduler.address)
      const tls = yield* tlsFromFlags(scheduler)
      const { loadTlsCredentials } = yield* Effect.promise(() => import("../../rpc/tlsCredentials.js"))
      const credentials = tls === undefined ? undefined : yield* loadTlsCredentials(tls)
      return yield* lazy(
        () => import("../../cli/health.js"),
        (m) => m.health(address, format, credentials)
      )
    }).pipe(Effect.scoped)
  )
).pipe(
  Command.withDescription(
    "Check that the scheduler and every store answer and every region has a leader; exit 0 when all do, 1 otherwise."
  )
)

export const ctl = Command.make("ctl").pipe(
  Command.withDescription("Inspect and steer the cluster through its scheduler."),
  Command.withSubcommands([health, stores, regions, region, operator, split, storeCommand])
)
