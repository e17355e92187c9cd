// NB: the connection moved to `src/rpc/` (stores use it too); these names stay for existing callers.
export { isValidAddress, parseAddress } from "../rpc/address.js"
export { connectStore, type StoreConnection, type TinyKvRpcClient } from "../rpc/storeConnection.js"
