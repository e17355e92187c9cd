/**
 * TinyKvClient: the typed client as an Effect service.
 *
 * `TinyKvClient.layer({ store })` talks to one standalone store, `TinyKvClient.layer({ scheduler })`
 * to a cluster. The interface is region-agnostic on purpose: the cluster client (region cache,
 * leader routing, retries) provides the same service. Keys and values are bytes; strings are
 * accepted and encoded as UTF-8.
 *
 * `TinyKvClient.layerConfig()` reads the same from the environment (`Config`): `TINYKV_STORE`, else
 * `TINYKV_SCHEDULER` (default 127.0.0.1:2379; several addresses separated by commas), and optionally
 * `TINYKV_TIMEOUT` (per attempt, e.g. `5 seconds`).
 *
 * `begin`/`transact` run Percolator transactions (snapshot isolation, two-phase commit; see
 * docs/TRANSACTIONS.md) over a `TxnBackend` the layer builds for its store(s).
 */
import { Config, type ConfigError, Context, Effect, Layer, Option } from "effect"
import type { StoreUnavailable } from "../rpc/errors.js"
import type { TlsConfigError } from "../rpc/tlsCredentials.js"
import { makeClusterClient } from "./cluster/clusterClient.js"
import { makeStandaloneClient } from "./standalone.js"
import type { ClusterOptions, StandaloneOptions, TinyKvClientService } from "./types.js"

export type { TlsConfigError, TlsOptions } from "../rpc/tlsCredentials.js"
export { type Bytesish, toBytes } from "./bytes.js"
export type { ClientError } from "./errors.js"
export type {
  CfOption,
  KvInput,
  RangeOptions,
  ClusterOptions,
  KvPair,
  RawApi,
  ScanOptions,
  StandaloneOptions,
  TinyKvClientService
} from "./types.js"

/** Where the client goes, from `TINYKV_STORE` / `TINYKV_SCHEDULER` / `TINYKV_TIMEOUT` (see `layerConfig`). */
export const clientOptionsConfig: Config.Config<StandaloneOptions | ClusterOptions> = Config.all({
  store: Config.option(Config.string("TINYKV_STORE")),
  scheduler: Config.string("TINYKV_SCHEDULER").pipe(Config.withDefault("127.0.0.1:2379")),
  timeout: Config.option(Config.duration("TINYKV_TIMEOUT"))
}).pipe(
  Config.map(({ store, scheduler, timeout }): StandaloneOptions | ClusterOptions => {
    const t = Option.isSome(timeout) ? { timeout: timeout.value } : {}
    return Option.isSome(store) ? { store: store.value, ...t } : { scheduler, ...t }
  })
)

export class TinyKvClient extends Context.Tag("tinykv/TinyKvClient")<TinyKvClient, TinyKvClientService>() {
  /**
   * A client for one standalone store (`{ store }`) or for a cluster (`{ scheduler }`); with
   * `tls: { ca, cert, key }` every connection is mutual TLS (fails with `TlsConfigError` when the
   * files do not load).
   */
  static layer(
    options: StandaloneOptions | ClusterOptions
  ): Layer.Layer<TinyKvClient, StoreUnavailable | TlsConfigError> {
    return "store" in options
      ? Layer.scoped(TinyKvClient, makeStandaloneClient(options))
      : Layer.scoped(TinyKvClient, makeClusterClient(options))
  }

  /** `layer` with the options read from `config` (default: the environment, see `clientOptionsConfig`). */
  static layerConfig(
    config: Config.Config<StandaloneOptions | ClusterOptions> = clientOptionsConfig
  ): Layer.Layer<TinyKvClient, StoreUnavailable | TlsConfigError | ConfigError.ConfigError> {
    return Layer.unwrapEffect(Effect.map(config, (options) => TinyKvClient.layer(options)))
  }
}
