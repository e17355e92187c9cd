export * from "./errors.js"
export * from "./promise.js"
export * from "./TinyKvClient.js"
