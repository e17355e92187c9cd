/**
 * Where each process of a local cluster listens and keeps its data, and the command line that says so.
 * A new per-process option (a status port, TLS files, region split sizes) is added here: a field in the
 * layout and the flag that passes it, so the playground, the tests and the benchmark all get it.
 */
import { join } from "node:path"

export interface StoreLayout {
  readonly id: number
  /** The process name: `store-<id>` (its log file is `<name>.log`). */
  readonly name: string
  /** `HOST:PORT` the store serves on. */
  readonly address: string
  /** `HOST:PORT` of its status listener (`/metrics`, `/health`, `/ready`). */
  readonly statusAddress: string
  readonly dataDir: string
}

export interface ClusterLayout {
  /** `HOST:PORT` of the scheduler. */
  readonly scheduler: string
  /** `HOST:PORT` of the scheduler's status listener (and its `/dashboard`). */
  readonly schedulerStatus: string
  readonly schedulerDataDir: string
  readonly stores: ReadonlyArray<StoreLayout>
  /** Extra flags given to every store, after the ones the layout implies. */
  readonly storeArgs: ReadonlyArray<string>
  /** Extra flags given to the scheduler (e.g. `--max-replicas 1`), after the ones the layout implies. */
  readonly schedulerArgs: ReadonlyArray<string>
}

export const makeLayout = (options: {
  readonly host: string
  readonly schedulerPort: number
  readonly schedulerStatusPort: number
  readonly storePorts: ReadonlyArray<number>
  readonly storeStatusPorts: ReadonlyArray<number>
  readonly dataDir: string
  readonly storeArgs: ReadonlyArray<string>
  readonly schedulerArgs?: ReadonlyArray<string> | undefined
}): ClusterLayout => ({
  scheduler: `${options.host}:${options.schedulerPort}`,
  schedulerStatus: `${options.host}:${options.schedulerStatusPort}`,
  schedulerDataDir: join(options.dataDir, "scheduler"),
  stores: options.storePorts.map((port, i) => ({
    id: i + 1,
    name: `store-${i + 1}`,
    address: `${options.host}:${port}`,
    statusAddress: `${options.host}:${options.storeStatusPorts[i]}`,
    dataDir: join(options.dataDir, `store-${i + 1}`)
  })),
  storeArgs: options.storeArgs,
  schedulerArgs: options.schedulerArgs ?? []
})

export const schedulerArgs = (layout: ClusterLayout): ReadonlyArray<string> => [
  "scheduler",
  "--addr",
  layout.scheduler,
  "--status-addr",
  layout.schedulerStatus,
  "--data",
  layout.schedulerDataDir,
  ...layout.schedulerArgs
]

/** Every store is named in `--initial-stores`, so the first region starts with one peer on each. */
export const storeArgs = (layout: ClusterLayout, store: StoreLayout): ReadonlyArray<string> => [
  "server",
  "--addr",
  store.address,
  "--status-addr",
  store.statusAddress,
  "--scheduler",
  layout.scheduler,
  "--data",
  store.dataDir,
  "--store-id",
  String(store.id),
  "--initial-stores",
  layout.stores.map((s) => s.id).join(","),
  ...layout.storeArgs
]
