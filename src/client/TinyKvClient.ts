/**
 * TinyKvClient: the typed client as an Effect service.
 *
 * `TinyKvClient.layer({ store })` talks to one standalone store, `TinyKvClient.layer({ scheduler })`
 * to a cluster. The interface is region-agnostic on purpose: the cluster client (region cache,
 * leader routing, retries) provides the same service. Keys and values are bytes; strings are
 * accepted and encoded as UTF-8.
 *
 * `begin`/`transact` run Percolator transactions (snapshot isolation, two-phase commit; see
 * docs/TRANSACTIONS.md) over a `TxnBackend` the layer builds for its store(s).
 */
import { Context, Layer } from "effect"
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
  ClusterOptions,
  KvPair,
  RawApi,
  ScanOptions,
  StandaloneOptions,
  TinyKvClientService
} from "./types.js"

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
}
