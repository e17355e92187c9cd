/**
 * `--peer-addresses 2=HOST:PORT,3=HOST:PORT`: where a store dials some of its peers instead of the address
 * the scheduler gives. The process nemesis uses it to route every store-to-store link through a proxy of its
 * own, which it can cut to partition the stores; clients still use the addresses the scheduler gives.
 */
import { isValidAddress } from "../rpc/address.js"
import { UsageError } from "./usage.js"

export const parsePeerAddresses = (text: string): ReadonlyMap<number, string> | UsageError => {
  const map = new Map<number, string>()
  if (text.trim() === "") return map
  for (const part of text.split(",")) {
    const i = part.indexOf("=")
    const id = Number(part.slice(0, i).trim())
    const address = part.slice(i + 1).trim()
    if (i < 0 || !Number.isSafeInteger(id) || id <= 0 || !isValidAddress(address) || map.has(id)) {
      return new UsageError(`--peer-addresses "${text}" is not a list of STORE_ID=HOST:PORT (one per store)`)
    }
    map.set(id, address)
  }
  return map
}
