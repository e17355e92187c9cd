/**
 * Percolator transactions (TinyKV projects 4A–4C): MVCC encoding and records, the pure commands,
 * per-key latches, and the handlers that serve the Kv* RPCs over a `KvStorage`.
 */
export * from "./codec.js"
export * from "./commands.js"
export * from "./corruption.js"
export * from "./handlers.js"
export * from "./latches.js"
export * from "./localTso.js"
export * from "./lock.js"
export * from "./mvccKey.js"
export * from "./mvccTxn.js"
export * from "./scanner.js"
export * from "./validate.js"
export * from "./write.js"
