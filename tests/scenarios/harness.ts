/**
 * A scenario harness shaped like @holochain/tryorama (`runScenario`, `addPlayers`, `dhtSync`), over
 * embedded peers in this process: each player is a whole peer (agent key, libp2p node, conductor,
 * replication) started by `createEmbeddedPeer`, as the daemon starts one. Everything stays on
 * loopback: TCP on 127.0.0.1, mDNS pinned to 127.0.0.1 (or explicit dials). Whatever happens, every
 * player is stopped and its data dir removed when the scenario ends.
 *
 * Backends: on 'embedded' a player's host drives its conductor in process; on 'holochain' it drives it
 * the way a host on the holochain backend drives a Holochain conductor: the player's embedded conductor
 * serves Holochain's admin and app WebSocket API on loopback, and `player.port` is a
 * HolochainConductor connected to it with @holochain/client (real sockets, signed zome calls, app
 * signals). `player.conductor` stays the conductor itself, for what tryorama reads through the
 * admin API (chain heads for dhtSync).
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EmbeddedConductor } from '../../host/conductor/embedded/index.ts'
import {
  createEmbeddedPeer,
  type EmbeddedPeer,
  type Replication,
  recordsAbout,
} from '../../host/conductor/embedded/replication/index.ts'
import {
  type ConductorApi,
  serveConductorApi,
} from '../../host/conductor/embedded/websocket-api/conductor-api.ts'
import { libp2pTransportView } from '../../host/conductor/embedded/websocket-api/network-info.ts'
import { HolochainConductor } from '../../host/conductor/holochain/holochain-conductor.ts'
import type { NetworkConfig } from '../../host/config/network-schema.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import type { MembraneProof } from '../../host/identity/membrane-grant.ts'
import type { ConductorPort } from '../../host/interface/conductor-port.ts'
import type { RecordAbout } from '../../host/interface/network-port.ts'
import type { ReleaseStatement } from '../../host/interface/release.ts'
import type { RippleNode } from '../../host/net/create-node.ts'
import type { DnaName } from '../../zomes-bindings/index.ts'

export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0']

export type Backend = 'embedded' | 'holochain'
/** Scenarios that run on both backends iterate over this. */
export const BACKENDS: readonly Backend[] = ['embedded', 'holochain']

/** A fresh loopback network (random seed): scenarios never hear each other. */
export function scenarioNetwork(overrides: Partial<NetworkConfig> = {}): NetworkConfig {
  return {
    name: 'scenario',
    seed: randomUUID(),
    backend: 'embedded',
    dna_properties: { policy_store: { progenitor: null } },
    heartbeat: { interval_ms: 100, stale_after_missed: 3, offline_after_ms: 1_000 },
    libp2p: { listen: LOOPBACK_LISTEN, mdns: true, bootstrap: [], psk: null },
    ...overrides,
  }
}

export interface PlayerOptions {
  /** Default: the scenario's network. */
  network?: NetworkConfig
  /**
   * 'mdns' (default): found by mDNS pinned to 127.0.0.1. 'explicit': dials the players of its
   * network already running when it starts (mDNS off).
   */
  discovery?: 'mdns' | 'explicit'
  /** Anti-entropy period; short by default so scenarios converge fast. */
  syncIntervalMs?: number
  /** Default: the scenario's backend. */
  backend?: Backend
  /** A data dir the test prepared (e.g. holding the agent key its network names); removed at clean-up. */
  dataDir?: string
  /** The invite written into the player's genesis, on a network that requires one. */
  membraneProof?: MembraneProof | null
  /** The release and protocols it states in its hello (an older release's); default this release's. */
  statement?: ReleaseStatement
}

/** Thrown when a player is used while it is shut down. */
export class PlayerNotRunningError extends Error {
  static override readonly name = 'PlayerNotRunningError'
  constructor(name: string) {
    super(`player ${name} is not running`)
    this.name = 'PlayerNotRunningError'
  }
}

/** Thrown by `dhtSync` when players still hold different ops at its deadline; says who lacks what. */
export class DhtSyncTimeoutError extends Error {
  static override readonly name = 'DhtSyncTimeoutError'
  constructor(dna: DnaName, timeoutMs: number, diff: string[]) {
    super(`players did not sync ${dna} within ${timeoutMs} ms:\n${diff.join('\n')}`)
    this.name = 'DhtSyncTimeoutError'
  }
}

export class Player {
  #peer: EmbeddedPeer | null = null
  #api: ConductorApi | null = null
  #port: ConductorPort | null = null
  #agentPubKey: string | null = null

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly network: NetworkConfig,
    private readonly options: PlayerOptions,
    private readonly dialTargets: () => string[],
  ) {}

  get running(): boolean {
    return this.#peer !== null
  }

  get conductor(): EmbeddedConductor {
    return this.#running().conductor
  }

  /** What the player's host drives: the conductor itself, or a HolochainConductor over its WebSocket API. */
  get port(): ConductorPort {
    this.#running()
    return this.#port!
  }

  get backend(): Backend {
    return this.options.backend ?? 'embedded'
  }

  /**
   * Calls back when records of a DNA arrive, with the records they are about, as the daemon's backend
   * does: replication events on embedded; none on holochain (its services poll).
   */
  get onRecordsStored():
    | ((dna: DnaName, listener: (about: readonly RecordAbout[]) => void) => () => void)
    | undefined {
    if (this.backend === 'holochain') return undefined
    return (dna, listener) =>
      this.replication.onOpsStored(
        (event) => event.dna === dna && listener(recordsAbout(event.dna, event.actions)),
      )
  }

  get node(): RippleNode {
    return this.#running().node
  }

  get replication(): Replication {
    return this.#running().replication
  }

  /** HoloHashB64 of the agent; the same across restarts (the key lives in the data dir). */
  get agentPubKey(): string {
    if (this.#agentPubKey === null) throw new PlayerNotRunningError(this.name)
    return this.#agentPubKey
  }

  async startUp(): Promise<void> {
    if (this.#peer !== null) return
    const explicit = this.options.discovery === 'explicit'
    const network = explicit
      ? { ...this.network, libp2p: { ...this.network.libp2p!, mdns: false } }
      : this.network
    this.#peer = await createEmbeddedPeer({
      dataDir: this.dataDir,
      network,
      listen: LOOPBACK_LISTEN,
      peers: explicit ? this.dialTargets() : [],
      mdnsInterface: '127.0.0.1',
      loopbackTuning: true,
      handshakeTimeoutMs: 2_000,
      replication: { intervalMs: this.options.syncIntervalMs ?? 500 },
      membraneProof: this.options.membraneProof,
      statement: this.options.statement,
    })
    this.#agentPubKey = this.#peer.conductor.agentPubKey
    this.#port = this.#peer.conductor
    if (this.backend === 'holochain') await this.#connectOverWebSocket(this.#peer)
  }

  async #connectOverWebSocket(peer: EmbeddedPeer): Promise<void> {
    const key = await openAgentKey(this.dataDir)
    this.#api = await serveConductorApi({
      conductor: peer.conductor,
      network: this.network,
      transport: libp2pTransportView(peer.node),
      sign: (bytes) => key.sign(bytes),
      adminPort: 0,
    })
    // The hApp is already installed on a Ripple conductor, so no path is needed.
    this.#port = await HolochainConductor.connect({
      adminUrl: this.#api.adminUrl,
      network: this.network,
      happPath: '/nonexistent/ripple.happ',
    })
  }

  async shutdown(): Promise<void> {
    const peer = this.#peer
    const port = this.#port
    const api = this.#api
    this.#peer = null
    this.#port = null
    this.#api = null
    if (port !== peer?.conductor) await port?.close()
    await api?.close()
    await peer?.stop()
  }

  /** Stops and starts again on the same data dir (same agent, same chains). */
  async restart(): Promise<void> {
    await this.shutdown()
    await this.startUp()
  }

  /** The chains of `dna` held here: author (HoloHashB64) -> `seq:head hash`. */
  heads(dna: DnaName): Map<string, string> {
    const { store } = this.conductor
    const heads = new Map<string, string>()
    for (const head of store.chainHeads(this.conductor.cell(dna).dnaHash)) {
      heads.set(encodeHashB64(head.author), `${head.seq}:${encodeHashB64(head.hash)}`)
    }
    return heads
  }

  #running(): EmbeddedPeer {
    if (this.#peer === null) throw new PlayerNotRunningError(this.name)
    return this.#peer
  }
}

const PLAYER_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']

export class Scenario {
  readonly network: NetworkConfig
  readonly backend: Backend
  readonly players: Player[] = []
  readonly #dataDirs: string[] = []

  constructor(network: NetworkConfig = scenarioNetwork(), backend: Backend = 'embedded') {
    this.network = network
    this.backend = backend
  }

  /** Starts one player (a fresh agent in a fresh data dir). */
  async addPlayer(options: PlayerOptions = {}): Promise<Player> {
    const index = this.players.length
    const name = PLAYER_NAMES[index] ?? `player${index}`
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `ripple-scenario-${name}-`)))
    this.#dataDirs.push(dataDir)
    const network = options.network ?? this.network
    const player = new Player(name, dataDir, network, { backend: this.backend, ...options }, () =>
      this.players
        .filter((p) => p.running && p.network.seed === network.seed)
        .flatMap((p) => p.node.multiaddrs().map(String)),
    )
    this.players.push(player)
    await player.startUp()
    return player
  }

  /** Starts `count` players, one after the other (explicit dials reach the ones before). */
  async addPlayers(count: number, options: PlayerOptions = {}): Promise<Player[]> {
    const added: Player[] = []
    for (let i = 0; i < count; i++) added.push(await this.addPlayer(options))
    return added
  }

  /**
   * Makes every player given connected to every other (tryorama: shareAllAgents). mDNS finds most
   * pairs; one a query round missed under load (CI: bob and frank, 10 s) is dialled directly, as
   * tryorama injects agent infos. mDNS itself is tested in tests/unit/net/mdns-discovery.test.ts.
   */
  async shareAllAgents(players: Player[] = this.players, timeoutMs = 20_000): Promise<void> {
    const missing = () =>
      players.flatMap((p) =>
        players.filter((q) => p !== q && !p.node.peers.has(q.node.peerId)).map((q) => [p, q] as const),
      )
    const deadline = Date.now() + timeoutMs
    while (missing().length > 0) {
      const left = deadline - Date.now()
      if (left <= 0) {
        const counts = players.map((p) => `${p.name}: ${p.node.peers.list().length} peers`).join(', ')
        throw new Error(`players did not all connect within ${timeoutMs} ms (${counts})`)
      }
      await waitUntil(Math.min(left, 3_000), () => missing().length === 0).catch(() =>
        Promise.allSettled(missing().map(([p, q]) => p.node.libp2p.dial(q.node.multiaddrs()))),
      )
    }
  }

  /**
   * Waits until every player holds the same chains of `dna` (same head for every author; heads are
   * hash-linked and verified, so equal heads mean equal sets of actions).
   */
  async dhtSync(players: Player[], dna: DnaName, timeoutMs = 15_000): Promise<void> {
    const same = () => {
      const [first, ...rest] = players.map((p) => p.heads(dna))
      return rest.every((heads) => sameHeads(heads, first!))
    }
    await waitUntil(timeoutMs, same).catch(() => {
      throw new DhtSyncTimeoutError(dna, timeoutMs, syncDiff(players, dna))
    })
  }

  /** Stops every player and removes every data dir; safe to call twice. */
  async cleanUp(): Promise<void> {
    await Promise.allSettled(this.players.map((p) => p.shutdown()))
    await Promise.all(this.#dataDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  }
}

export interface ScenarioOptions {
  network?: NetworkConfig
  backend?: Backend
}

/** Runs `fn` with a fresh scenario, and cleans up after it whether it passes or throws. */
export async function runScenario<T>(
  fnOrOptions: ((scenario: Scenario) => Promise<T>) | ScenarioOptions,
  fnOrNetwork?: ((scenario: Scenario) => Promise<T>) | NetworkConfig,
): Promise<T> {
  const [options, fn] =
    typeof fnOrOptions === 'function'
      ? [{ network: fnOrNetwork as NetworkConfig | undefined }, fnOrOptions]
      : [fnOrOptions, fnOrNetwork as (scenario: Scenario) => Promise<T>]
  const scenario = new Scenario(options.network, options.backend)
  try {
    return await fn(scenario)
  } finally {
    await scenario.cleanUp()
  }
}

/** Polls `condition` every 25 ms; rejects at the deadline. */
export async function waitUntil(timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function sameHeads(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([author, head]) => b.get(author) === head)
}

/** Per player: the chains it lacks or holds shorter than the longest any player holds. */
function syncDiff(players: Player[], dna: DnaName): string[] {
  const all = players.map((p) => ({ name: p.name, heads: p.heads(dna) }))
  const longest = new Map<string, number>()
  for (const { heads } of all) {
    for (const [author, head] of heads) longest.set(author, Math.max(longest.get(author) ?? -1, seqOf(head)))
  }
  return all.map(({ name, heads }) => {
    const gaps = [...longest].flatMap(([author, seq]) => {
      const mine = heads.get(author)
      if (mine === undefined) return [`missing ${author.slice(0, 12)}… (up to seq ${seq})`]
      if (seqOf(mine) < seq) return [`${author.slice(0, 12)}… at seq ${seqOf(mine)} < ${seq}`]
      const forked = all.some((other) => {
        const theirs = other.heads.get(author)
        return theirs !== undefined && seqOf(theirs) === seqOf(mine) && theirs !== mine
      })
      return forked ? [`${author.slice(0, 12)}… has another action at seq ${seqOf(mine)}`] : []
    })
    return `  ${name}: ${gaps.length === 0 ? 'holds the longest of every chain' : gaps.join('; ')}`
  })
}

function seqOf(head: string): number {
  return Number(head.slice(0, head.indexOf(':')))
}
