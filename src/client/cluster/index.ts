export {
  type ClusterClientOptions,
  type ClusterRouting,
  type ClusterRoutingOptions,
  makeClusterClient,
  makeClusterClientWith,
  makeClusterRouting
} from "./clusterClient.js"
export { makeClusterTxnBackend } from "./clusterTxnBackend.js"
export { type Connect, type ConnectionPool, makeConnectionPool } from "./connectionPool.js"
export type { RawApi } from "../types.js"
export { makeRegionCache, NoRegion, type RegionCache, type RegionSource, type Route } from "./regionCache.js"
export {
  makeRegionRouter,
  type RegionCall,
  type RegionRouter,
  type RouterOptions,
  sendToKey
} from "./regionRouter.js"
export { makeStoreAddresses, type StoreAddresses, StoreRemoved } from "./storeAddresses.js"
