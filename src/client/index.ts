export * from "./errors.js"
export * from "./promise.js"
export * from "./TinyKvClient.js"
// Transactions: the API over any backend, its errors, and the backend for one standalone store.
export {
  begin,
  defaultTransactionOptions,
  type KvEntry,
  type Transaction,
  type TransactionOptions,
  type TransactOptions,
  type TxnError,
  transact
} from "./transaction.js"
export { backendFromHandlers, type TxnBackend } from "./txnBackend.js"
export { isRetryable, KeyIsLocked, type TxnFailure, TxnAborted, WriteConflict } from "./txnErrors.js"
export { txnRpcBackend } from "./txnRpcBackend.js"
