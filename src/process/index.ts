/** Local clusters of real `tinykv` processes: the playground, the process tests and the benchmark. */
export { type Child, type ChildOptions, describeExit, type ExitStatus, startChild } from "./child.js"
export { ChildNotReady, ClusterNotWritable } from "./errors.js"
export { type ClusterLayout, type StoreLayout, schedulerArgs, storeArgs } from "./layout.js"
export { type LocalCluster, type LocalClusterOptions, startLocalCluster } from "./localCluster.js"
export { freePort } from "./ports.js"
export { waitUntilWritable } from "./readiness.js"
