/** `HOST:PORT` addresses of stores and schedulers (a bare port means 127.0.0.1). */

export const parseAddress = (address: string): { host: string; port: number } => {
  const i = address.lastIndexOf(":")
  const host = i > 0 ? address.slice(0, i) : "127.0.0.1"
  const port = Number(i >= 0 ? address.slice(i + 1) : address)
  return { host, port }
}

export const isValidAddress = (address: string): boolean => {
  const { port } = parseAddress(address)
  return Number.isInteger(port) && port > 0 && port < 65536
}
