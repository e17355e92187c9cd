/**
 * A standalone store: raw and transactional KV on one local engine, no Raft, no scheduler
 * (`tinykv server --standalone`). Data lives in an lmdb environment under `dataDir`, or in memory
 * when `dataDir` is undefined (tests).
 */
import { Layer } from "effect"
import { layerWithTls, type TlsOptions } from "../rpc/tlsCredentials.js"
import { layerHandlers } from "../server/handlers.js"
import { layerRpcServer, layerSocketServer, type ListenOptions } from "../server/serve.js"
import { layerStandalone } from "./kvStorageStandalone.js"
import { type LmdbOptions, layerLmdb } from "./storageLmdb.js"
import { layerMemory } from "./storageMemory.js"
import { layerTsoLocal } from "./tsoLocal.js"

export interface StandaloneOptions extends ListenOptions {
  readonly dataDir: string | undefined
  /** The lmdb engine's disk-space limits (tests set a small quota). */
  readonly lmdb?: LmdbOptions | undefined
  /** Serve mutual TLS only, with these files (reloaded when they change). */
  readonly tls?: TlsOptions | undefined
}

/** The RPC server of a standalone store, over an existing `SocketServer` (so tests can bind port 0). */
export const layerStandaloneRpc = (dataDir: string | undefined, lmdb?: LmdbOptions) => {
  const storage = dataDir === undefined ? layerMemory : layerLmdb(dataDir, lmdb)
  return layerRpcServer(layerHandlers).pipe(
    Layer.provide(Layer.merge(layerStandalone, layerTsoLocal)),
    Layer.provide(storage)
  )
}

export const layerStandaloneStore = (options: StandaloneOptions) =>
  layerStandaloneRpc(options.dataDir, options.lmdb).pipe(
    Layer.provide(layerWithTls(options.tls, (tls) => layerSocketServer(options, tls)))
  )
