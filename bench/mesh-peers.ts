/**
 * What one peer pays for the mesh, against its size (issue 56, design 4e): meshes of N `ripple up` on
 * loopback, joined as a new user would (the first peer creates the default private mesh, every other
 * joins with an invite it wrote), one runner with the tiny generated model. Per size, after the mesh
 * settled: an idle window (no requests), then a window under a fixed load (REQUESTERS peers, each one
 * one-token chat completion a second to the runner's model through its own /v1). Per peer, from its
 * /metrics and /proc: connections open (the mean of a reading every 10 s), messages and bytes a
 * second by libp2p protocol (in + out, ripple_net_*), the gossip it sends a second by topic class
 * and part (ripple_net_gossip_sent_total: which of it grows with the mesh), CPU ms a second of the
 * daemon's own process, RSS, and the record it keeps (issue 57): ops of other agents verified and
 * stored a second (ripple_ops_stored_total) and its store's growth a minute, the ops of others it
 * stored by DNA, type and how it keeps them (./store-breakdown.ts), its pushes to holders (none
 * while it does not see the record sharded) and the other peers whose release it has not heard
 * (each holds sharding off).
 * Bystanders (neither runner nor requester) are the median and max over them: what a peer that takes
 * no part pays.
 * Run: `npm run bench mesh-peers` (RIPPLE_BENCH_MESH_PEERS_SIZES=4,8 runs fewer; _WINDOW_S the windows).
 * A size that fails (a daemon that exits before it is ready, a mesh that does not form) is a row saying
 * why and `n<N>_failed: 1`, and the next size runs (./mesh-peers/peers-report.ts); it keeps each
 * daemon's output (at RIPPLE_BENCH_MESH_PEERS_LOG_LEVEL, default warn) and the error in
 * RIPPLE_BENCH_MESH_PEERS_LOGS (default $TMPDIR/ripple-bench-mesh-peers-logs/N<size>/), so why a mesh
 * did not form can be read after. RIPPLE_BENCH_MESH_PEERS_PROFILE=1 profiles the last peer to join over
 * the idle window (V8's sampler, ./cpu-profile.ts) and prints its top functions.
 * RIPPLE_BENCH_MESH_PEERS_HOLDERS=4 runs the mesh with that R (./mesh-peers/network-file.ts).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { TINY_MODEL, writeLlamaModel } from '../host/inference/gguf-gen/llama-generator.ts'
import { type RunningRipple, runRipple, startRipple } from '../tests/e2e/ripple-process.ts'
import type { Endpoint } from './chat-paths.ts'
import { inspector, type Profile, printTop } from './cpu-profile.ts'
import { metric, metrics, storeBytes } from './daemon-store.ts'
import { ownCpuMs, rssMb, sleep, waitFor } from './measure.ts'
import { networkFlags } from './mesh-peers/network-file.ts'
import {
  meshPeersReport,
  type PeerCost,
  type Role,
  type SizeOutcome,
  whyFailed,
} from './mesh-peers/peers-report.ts'
import { warmUp } from './mesh-peers/warm-up.ts'
import type { BenchReport } from './report.ts'
import { type StoredCounts, storedBetween } from './store-breakdown.ts'

const SIZES = (process.env.RIPPLE_BENCH_MESH_PEERS_SIZES ?? '4,8,16,32').split(',').map(Number)
const WINDOW_S = Number(process.env.RIPPLE_BENCH_MESH_PEERS_WINDOW_S ?? 45)
/** After every peer sees the others, how long the mesh runs before a window (first syncs, first beats). */
const SETTLE_S = Number(process.env.RIPPLE_BENCH_MESH_PEERS_SETTLE_S ?? 30)
const REQUESTERS = 2
/** How often each peer's open connections are read within a window (their mean is its figure). */
const CONNECTION_SAMPLE_MS = 10_000
const LOGS = process.env.RIPPLE_BENCH_MESH_PEERS_LOGS ?? join(tmpdir(), 'ripple-bench-mesh-peers-logs')
/** The daemons' log level: `info` tells more of a size that fails. */
const LOG_LEVEL = process.env.RIPPLE_BENCH_MESH_PEERS_LOG_LEVEL ?? 'warn'
/** Set: the last peer to join (a bystander) is profiled over the idle window, its top functions printed. */
const PROFILE = process.env.RIPPLE_BENCH_MESH_PEERS_PROFILE === '1'
const HOLDERS = process.env.RIPPLE_BENCH_MESH_PEERS_HOLDERS
  ? Number(process.env.RIPPLE_BENCH_MESH_PEERS_HOLDERS)
  : null
const MODEL = 'tiny'

interface Peer extends Endpoint {
  name: string
  role: Role
  pid: number
  dataDir: string
}

/** Each `name{protocol="p",dir="d"} value` sample of a counter, summed by protocol. */
export function byProtocol(text: string, name: string): Map<string, number> {
  const sums = new Map<string, number>()
  const line = new RegExp(`^${name}\\{protocol="([^"]*)",dir="(?:in|out)"\\} (\\S+)$`, 'gm')
  for (const [, protocol, value] of text.matchAll(line))
    sums.set(protocol!, (sums.get(protocol!) ?? 0) + Number(value))
  return sums
}

/** Each `ripple_record_reads_total{dna="d",fn="f",kind="k"} value` sample, by `d/f/k`. */
export function readsByFn(text: string): Map<string, number> {
  const line = /^ripple_record_reads_total\{dna="([^"]*)",fn="([^"]*)",kind="([^"]*)"\} (\S+)$/gm
  return new Map(
    [...text.matchAll(line)].map(([, dna, fn, kind, value]) => [`${dna}/${fn}/${kind}`, Number(value)]),
  )
}

/** Each `ripple_net_gossip_sent_total{topic="t",part="p"} value` sample (gossip-parts.ts), by `t:p`. */
export function gossipByPart(text: string): Map<string, number> {
  const line = /^ripple_net_gossip_sent_total\{topic="([^"]*)",part="([^"]*)"\} (\S+)$/gm
  return new Map(
    [...text.matchAll(line)].map(([, topic, part, value]) => [`${topic}:${part}`, Number(value)]),
  )
}

interface Reading {
  at: number
  cpuMs: number
  messages: Map<string, number>
  bytes: Map<string, number>
  /** Zome reads asked of holders, by DNA/function/kind (ripple_record_reads_total). */
  reads: Map<string, number>
  /** Gossipsub RPC parts sent, by topic class and part (ripple_net_gossip_sent_total). */
  gossip: Map<string, number>
  connections: number
  /** Connections opened since start, both directions (ripple_net_connections_opened_total). */
  opened: number
  rssMb: number
  /** Ops of other agents verified and stored here (the record's share this peer keeps). */
  opsStored: number
  /** Pushes of its own ops to their holders: none while this peer does not see the record sharded. */
  pushesSent: number
  storeBytes: number
  /** Other peers whose release this peer has not heard: each holds sharding off (record-sharding.ts). */
  unknownReleases: number
}

async function read(peer: Peer): Promise<Reading> {
  const text = await metrics(peer)
  return {
    at: performance.now(),
    cpuMs: await ownCpuMs(peer.pid),
    messages: byProtocol(text, 'ripple_net_messages_total'),
    bytes: byProtocol(text, 'ripple_net_bytes_total'),
    reads: readsByFn(text),
    gossip: gossipByPart(text),
    connections: metric(text, 'ripple_net_connections'),
    opened: metric(text, 'ripple_net_connections_opened_total'),
    rssMb: await rssMb(peer.pid),
    opsStored: metric(text, 'ripple_ops_stored_total'),
    pushesSent: metric(text, 'ripple_record_pushes_sent_total'),
    storeBytes: storeBytes(peer.dataDir),
    unknownReleases: await releasesUnknown(peer),
  }
}

/** Other peers listed by /api/peers whose release statement this peer has not heard (hello or heartbeat). */
async function releasesUnknown(peer: Peer): Promise<number> {
  const reply = await fetch(`${peer.url}/api/peers?limit=1000`, {
    headers: { authorization: `Bearer ${peer.token}` },
  })
  const { peers } = (await reply.json()) as { peers: { release?: unknown }[] }
  return peers.slice(1).filter((p) => p.release === null || p.release === undefined).length
}

function cost(role: Role, a: Reading, b: Reading, stored: StoredCounts, held: readonly number[]): PeerCost {
  const s = (b.at - a.at) / 1000
  const rate = (x: Map<string, number>, y: Map<string, number>) =>
    new Map([...y].map(([p, v]) => [p, (v - (x.get(p) ?? 0)) / s]))
  const protocols = rate(a.messages, b.messages)
  const sum = (m: Map<string, number>) => [...m.values()].reduce((t, v) => t + v, 0)
  return {
    role,
    // The mean of the window's samples: one reading at its end caught whatever was open that moment.
    connections: [a.connections, ...held, b.connections].reduce((t, c) => t + c, 0) / (held.length + 2),
    openedPerS: (b.opened - a.opened) / s,
    cpuMsPerS: (b.cpuMs - a.cpuMs) / s,
    msgsPerS: sum(protocols),
    bytesPerS: sum(rate(a.bytes, b.bytes)),
    rssMb: b.rssMb,
    opsStoredPerS: (b.opsStored - a.opsStored) / s,
    storeKbPerMin: (b.storeBytes - a.storeBytes) / 1024 / (s / 60),
    pushesPerS: (b.pushesSent - a.pushesSent) / s,
    unknownReleases: b.unknownReleases,
    stored,
    protocols,
    reads: rate(a.reads, b.reads),
    gossip: rate(a.gossip, b.gossip),
  }
}

async function window(
  peers: readonly Peer[],
  seconds: number,
  load?: () => Promise<void>,
): Promise<PeerCost[]> {
  const before = await Promise.all(peers.map(read))
  const from = Date.now()
  const until = from + seconds * 1000
  const running = load ? loadUntil(until, load) : sleep(seconds * 1000)
  const held = peers.map((): number[] => [])
  const sampling = (async () => {
    while (Date.now() + CONNECTION_SAMPLE_MS < until) {
      await sleep(CONNECTION_SAMPLE_MS)
      const texts = await Promise.all(peers.map((p) => metrics(p).catch(() => null)))
      for (const [i, text] of texts.entries())
        if (text !== null) held[i]!.push(metric(text, 'ripple_net_connections'))
    }
  })()
  await Promise.all([running, sampling])
  const after = await Promise.all(peers.map(read))
  // What was signed up to the window's end, given a few seconds more to arrive.
  await sleep(5_000)
  const stored = await Promise.all(peers.map((p) => storedBetween(p.dataDir, from, until)))
  return peers.map((p, i) => cost(p.role, before[i]!, after[i]!, stored[i]!, held[i]!))
}

async function loadUntil(until: number, one: () => Promise<void>): Promise<void> {
  while (Date.now() < until) {
    const tick = sleep(1000)
    await Promise.all([one().catch(() => {}), tick])
  }
}

async function startPeer(
  root: string,
  name: string,
  role: Role,
  flags: string[],
): Promise<Peer & { daemon: RunningRipple }> {
  const models = join(root, `${name}-models`)
  await mkdir(models, { recursive: true })
  if (role === 'runner') await writeLlamaModel(join(models, `${MODEL}.gguf`), TINY_MODEL)
  const daemon = await startRipple(
    [
      ...['--data-dir', join(root, name), '--name', name, '--models-dir', models, '--api-port', '0'],
      ...['--threads', '1', '--parallel', '4', '--context-size', '1024', '--log-level', LOG_LEVEL, ...flags],
    ],
    180_000,
  ).catch((err: unknown) => {
    // Which daemon, and its last line (its error, where it exited): the whole output goes to the logs.
    throw new Error(`${name} did not start: ${whyFailed(err)} (${lastLine(err)})`, { cause: err })
  })
  return {
    daemon,
    name,
    role,
    pid: daemon.child.pid ?? 0,
    dataDir: join(root, name),
    url: /^ripple: api (\S+)$/m.exec(daemon.stdout())?.[1] ?? '',
    token: (await readFile(join(root, name, 'api-token'), 'utf8')).trim(),
  }
}

/** The members a peer counts (`ripple_members`), or what its /metrics sent instead. */
async function memberCount(peer: Peer): Promise<string> {
  const text = await metrics(peer)
  if (/^ripple_members /m.test(text)) return String(metric(text, 'ripple_members'))
  return `(no count: ${text.slice(0, 120).replace(/\s+/g, ' ')})`
}

async function mesh(
  size: number,
): Promise<
  { idle: PeerCost[]; load: PeerCost[]; served: number } | { idle: PeerCost[]; loadFailed: string }
> {
  const root = await mkdtemp(join(tmpdir(), 'ripple-bench-mesh-peers-'))
  const daemons: { name: string; daemon: RunningRipple }[] = []
  try {
    const network = await networkFlags(root, HOLDERS)
    const first = await startPeer(root, 'p0', 'runner', network)
    daemons.push(first)
    const roleOf = (i: number): Role => (i <= REQUESTERS ? 'requester' : 'bystander')
    const peers: Peer[] = [first]
    // An invite of its own (single use) for each joiner, written one at a time by the first peer.
    for (let n = 1; n < size; n++) {
      const out = join(root, `invite-${n}.json`)
      const made = await runRipple(['invite', 'create', '--data-dir', join(root, 'p0'), '--out', out])
      if (made.code !== 0) throw new Error(`invite ${n} (exit ${made.code}): ${made.stderr}${made.stdout}`)
    }
    // Joined a few at a time, as a team would. Each of a batch is awaited, so that one that fails to
    // start leaves none of the others still starting when the size ends (all are stopped in `finally`).
    for (let i = 1; i < size; i += 4) {
      const batch = Array.from({ length: Math.min(4, size - i) }, (_, k) => i + k)
      // The daemons inherit this process's environment: the last batch gets the inspector, for the profile.
      const inspected = PROFILE && i + 4 >= size
      const options = process.env.NODE_OPTIONS
      if (inspected) process.env.NODE_OPTIONS = `${options ?? ''} --inspect=127.0.0.1:0`.trim()
      const started = await Promise.allSettled(
        batch.map((n) =>
          startPeer(root, `p${n}`, roleOf(n), [...network, '--join-file', join(root, `invite-${n}.json`)]),
        ),
      )
      if (inspected) {
        if (options === undefined) delete process.env.NODE_OPTIONS
        else process.env.NODE_OPTIONS = options
      }
      const joined = started.flatMap((peer) => (peer.status === 'fulfilled' ? [peer.value] : []))
      daemons.push(...joined)
      peers.push(...joined)
      const failed = started.find((peer) => peer.status === 'rejected')
      if (failed?.status === 'rejected') throw failed.reason
    }
    // Every peer counts every member. Each look renders every daemon's /metrics: one a second, not 20
    // (32 daemons on 2 cores spent the wait rendering them).
    // A count of 0 may be no count: a peer whose /metrics failed or left the gauge out says what it sent.
    let counts: string[] = []
    await waitFor(
      'every peer counts every member',
      async () => {
        counts = await Promise.all(peers.map((p) => memberCount(p).catch((err: Error) => err.message)))
        return counts.every((n) => Number(n) >= size)
      },
      300_000,
      1_000,
    ).catch((err: Error) => {
      const short = peers.flatMap((p, i) => (Number(counts[i]) >= size ? [] : [`${p.name} ${counts[i]}`]))
      throw new Error(`${err.message} (members counted, of ${size}: ${short.join(', ')})`)
    })
    await sleep(SETTLE_S * 1000)
    const profiled = PROFILE ? await inspector(daemons.at(-1)!.daemon.stderr) : undefined
    await profiled?.call('Profiler.enable')
    await profiled?.call('Profiler.start')
    const idle = await window(peers, WINDOW_S)
    if (profiled !== undefined) {
      const { profile } = (await profiled.call('Profiler.stop')) as { profile: Profile }
      profiled.close()
      printTop(`N=${size}, ${daemons.at(-1)!.name} (bystander) at rest, a second`, profile, WINDOW_S, 20)
    }
    const requesters = peers.filter((p) => p.role === 'requester')
    const clients = requesters.map((p) => new OpenAI({ baseURL: `${p.url}/v1`, apiKey: p.token }))
    let served = 0
    const ask = async () => {
      await Promise.all(
        clients.map(async (client) => {
          await client.chat.completions.create({
            model: MODEL,
            messages: [{ role: 'user', content: 'Say one word.' }],
            max_tokens: 1,
          })
          served += 1
        }),
      )
    }
    // The model loads on the runner. A first dial to it may time out on a loaded machine (32 daemons
    // on 2 cores): asked again a few times; if it never answers, the idle window measured is kept.
    const warmed = await warmUp(ask)
    if (warmed !== null) return { idle, loadFailed: warmed }
    const load = await window(peers, WINDOW_S, ask)
    return { idle, load, served }
  } catch (err) {
    await keepLogs(size, daemons, err)
    throw err
  } finally {
    for (const { daemon: d } of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL')
    // A daemon killed a moment ago may still be closing its files.
    await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 })
  }
}

/** Each daemon's output, by its name, and the error (a daemon's that did not start), for a size that failed. */
async function keepLogs(
  size: number,
  daemons: readonly { name: string; daemon: RunningRipple }[],
  err: unknown,
): Promise<void> {
  const dir = join(LOGS, `N${size}`)
  await mkdir(dir, { recursive: true })
  const cause = err instanceof Error && err.cause instanceof Error ? `\n${err.cause.message}` : ''
  await Promise.all([
    ...daemons.map(({ name, daemon: d }) =>
      writeFile(join(dir, `${name}.log`), `exit ${d.child.exitCode}\n${d.stdout()}\n${d.stderr()}`),
    ),
    writeFile(join(dir, 'error.log'), `${err instanceof Error ? err.message : String(err)}${cause}\n`),
  ])
  console.error(`mesh-peers: N=${size} failed; the daemons' output is in ${dir}`)
}

/** The last line of an error's message that says something, cut short (a daemon's stderr ends it). */
function lastLine(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').filter((l) => l.trim() !== '')
  return (lines.at(-1) ?? '').trim().slice(0, 200)
}

export default async function run(): Promise<BenchReport> {
  const outcomes: SizeOutcome[] = []
  for (const size of SIZES) {
    try {
      outcomes.push({ size, ...(await mesh(size)) })
      // Each size's rows as it ends: a run stopped later keeps the sizes it measured.
      console.error(`mesh-peers: N=${size}: ${JSON.stringify(meshPeersReport(outcomes.slice(-1), WINDOW_S))}`)
    } catch (err) {
      // The sizes measured before are kept, and the next one is tried: a failed size is a row.
      console.error(`mesh-peers: N=${size} failed: ${whyFailed(err)}`)
      outcomes.push({ size, failed: whyFailed(err) })
    }
  }
  const { rows, figures } = meshPeersReport(outcomes, WINDOW_S)
  return {
    name: 'mesh-peers',
    rows,
    figures,
    note:
      `N \`ripple up\` on loopback joined by invites (default private mesh), one runner (tiny model), ` +
      `${REQUESTERS} requesters at 1 one-token request/s each under load; ${WINDOW_S} s windows after ${SETTLE_S} s settle; ` +
      `per peer from /metrics (ripple_net_*) and /proc; median (max) over each role; load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on this 2-core machine`,
  }
}
