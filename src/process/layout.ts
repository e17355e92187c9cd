/**
 * Where each process of a local cluster listens and keeps its data, and the command line that says so.
 * A new per-process option (a status port, TLS files, region split sizes) is added here: a field in the
 * layout and the flag that passes it, so the playground, the tests and the benchmark all get it.
 */
import { join } from "node:path"
import type { CertificateFiles } from "./certificates.js"

/** TLS for every process of a local cluster: the CA, and the certificate each process presents. */
export interface ClusterTls {
  /** The CA certificate file. */
  readonly ca: string
  /** By process name (`scheduler`, `store-<id>`), and `client` for clients of the cluster (its own probe). */
  readonly certificates: ReadonlyMap<string, CertificateFiles>
  /** Passed to every process as `--tls-allowed-cn`. */
  readonly allowedCn?: ReadonlyArray<string> | undefined
}

/** The flags that give process `name` its TLS files (none without TLS). */
export const tlsArgs = (tls: ClusterTls | undefined, name: string): ReadonlyArray<string> => {
  if (tls === undefined) return []
  const files = tls.certificates.get(name)
  if (files === undefined) throw new Error(`no TLS certificate for ${name}`)
  return [
    "--tls-ca",
    tls.ca,
    "--tls-cert",
    files.cert,
    "--tls-key",
    files.key,
    ...(tls.allowedCn === undefined ? [] : ["--tls-allowed-cn", tls.allowedCn.join(",")])
  ]
}

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
  readonly tls?: ClusterTls | undefined
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
  readonly tls?: ClusterTls | undefined
}): ClusterLayout => ({
  tls: options.tls,
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
  ...tlsArgs(layout.tls, "scheduler"),
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
  ...tlsArgs(layout.tls, store.name),
  ...layout.storeArgs
]
