/**
 * A fresh 3-member etcd cluster for the `vs-etcd` suite: `etcd` from PATH, members on free loopback ports
 * in a temporary data directory (etcd's defaults otherwise: WAL fsync on every commit, linearizable
 * ranges), and `KvConn`s that drive it through etcd's v3 JSON gateway (`POST /v3/kv/put`,
 * `POST /v3/kv/range`, base64 keys and values) over HTTP/1.1 keep-alive, one connection per client.
 * Every client talks to the leader, as the TinyKV-TS cluster client does (a follower would forward).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { Agent, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./standalone.js"
import type { KvConn } from "./workloads.js"

/** Why etcd cannot run here, or undefined when `etcd --version` works. */
export const etcdMissing = (): string | undefined => {
  const probe = spawnSync("etcd", ["--version"], { encoding: "utf8" })
  if (probe.error === undefined && probe.status === 0) return undefined
  return (
    "etcd is not on PATH (`etcd --version` failed). Install it, e.g. on Debian or Ubuntu: " +
    "`apt-get install etcd-server etcd-client` (as root, or with sudo)"
  )
}

/** The first line of `etcd --version` ("etcd Version: 3.4.23"). */
export const etcdVersion = (): string =>
  (spawnSync("etcd", ["--version"], { encoding: "utf8" }).stdout ?? "").split("\n")[0]!.trim()

/** One JSON request on a keep-alive agent; rejects on a non-2xx answer. */
const post = (agent: Agent, url: URL, body: string): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          if ((res.statusCode ?? 0) >= 300) reject(new Error(`etcd ${url.pathname}: HTTP ${res.statusCode}: ${text}`))
          else resolve(JSON.parse(text))
        })
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(body)
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface EtcdCluster {
  /** The leader's client URL. */
  readonly leader: string
  /** `n` connections to the leader, one keep-alive socket each. */
  readonly connect: (n: number) => Array<KvConn>
  readonly stop: () => Promise<void>
}

const b64 = (s: string) => Buffer.from(s).toString("base64")

/** Starts 3 members and resolves once one of them reports a leader that answers a linearizable range. */
export const startEtcd = async (members = 3): Promise<EtcdCluster> => {
  const dir = mkdtempSync(join(tmpdir(), "tinykv-bench-etcd-"))
  const ports = await Promise.all(
    Array.from({ length: members }, async () => ({ client: await freePort(), peer: await freePort() }))
  )
  const names = ports.map((_, i) => `m${i + 1}`)
  const initial = ports.map((p, i) => `${names[i]}=http://127.0.0.1:${p.peer}`).join(",")
  const children: Array<ChildProcess> = []
  const output: Array<string> = []
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            c.once("exit", () => resolve())
            c.kill("SIGKILL")
          })
      )
    )
    rmSync(dir, { recursive: true, force: true })
  }
  for (const [i, p] of ports.entries()) {
    const child = spawn(
      "etcd",
      [
        `--name=${names[i]}`,
        `--data-dir=${join(dir, names[i]!)}`,
        `--listen-client-urls=http://127.0.0.1:${p.client}`,
        `--advertise-client-urls=http://127.0.0.1:${p.client}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-cluster=${initial}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=tinykv-bench",
        "--logger=zap",
        "--log-level=warn"
      ],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    const keep = (c: Buffer) => {
      output.push(c.toString("utf8"))
      if (output.length > 200) output.shift()
    }
    child.stdout!.on("data", keep)
    child.stderr!.on("data", keep)
    children.push(child)
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const deadline = Date.now() + 60_000
    for (;;) {
      const dead = children.find((c) => c.exitCode !== null)
      if (dead !== undefined) throw new Error(`etcd exited with code ${dead.exitCode}:\n${output.join("")}`)
      try {
        const statuses = (await Promise.all(
          ports.map((p) => post(agent, new URL(`http://127.0.0.1:${p.client}/v3/maintenance/status`), "{}"))
        )) as Array<{ header: { member_id: string }; leader: string }>
        const at = statuses.findIndex((s) => s.leader !== undefined && s.leader === s.header.member_id)
        if (at >= 0) {
          const leader = `http://127.0.0.1:${ports[at]!.client}`
          await post(agent, new URL(`${leader}/v3/kv/range`), JSON.stringify({ key: b64("warmup") }))
          agent.destroy()
          return { leader, connect: (n) => Array.from({ length: n }, () => etcdConn(leader)), stop }
        }
      } catch {
        // not serving yet
      }
      if (Date.now() > deadline) throw new Error(`etcd did not elect a leader in 60 s:\n${output.join("")}`)
      await sleep(200)
    }
  } catch (e) {
    agent.destroy()
    await stop()
    throw e
  }
}

/** One client: its own agent with one keep-alive socket, so 64 clients are 64 connections. */
const etcdConn = (base: string): KvConn => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const putUrl = new URL(`${base}/v3/kv/put`)
  const rangeUrl = new URL(`${base}/v3/kv/range`)
  return {
    put: async (key, value) => {
      await post(agent, putUrl, JSON.stringify({ key: b64(key), value: Buffer.from(value).toString("base64") }))
    },
    get: async (key) => {
      // linearizable is the default (`serializable: false`)
      const r = (await post(agent, rangeUrl, JSON.stringify({ key: b64(key) }))) as {
        kvs?: Array<{ value?: string }>
      }
      const v = r.kvs?.[0]?.value
      return v === undefined ? undefined : new Uint8Array(Buffer.from(v, "base64"))
    },
    close: async () => agent.destroy()
  }
}
