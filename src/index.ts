/**
 * TinyKV-TS: a distributed, transactional key-value store on Effect 3.
 *
 * The library surface: the typed client (Effect service and Promise facade), the wire protocol,
 * the service tags and their layers (to run a store in-process or swap in test engines).
 */
export * from "./client/index.js"
export * as Protocol from "./protocol/index.js"
export { Storage, type EngineReader, type WriteOp, CFS, type Cf } from "./services/Storage.js"
export { KvStorage, type KvReader, type Modify } from "./services/KvStorage.js"
export { Tso } from "./services/Tso.js"
export { layerLmdb } from "./layers/storageLmdb.js"
export { layerMemory, layerMemoryFrom, MemoryEngine } from "./layers/storageMemory.js"
export { layerStandalone, layerKvMemory } from "./layers/kvStorageStandalone.js"
export { layerStandaloneStore, layerStandaloneRpc } from "./layers/standaloneStore.js"
