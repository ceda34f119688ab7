/**
 * A mesh in a NAT lab (nat-lab.ts): a `ripple relay` in the public namespace and `ripple up` peers in
 * the home namespaces, on a copy of `testnet` with a seed of this run's (so it is testnet as shipped:
 * no mDNS, relay slots, no bootstrap of its own, which the relay's address supplies). The tests drive
 * each peer with the `ripple` CLI run inside its namespace, where its API listens on loopback.
 * With `requireInvite`, the copy requires invites: home1's data dir holds the mesh its first start
 * would make (home1 its admin), which is what the relay serves and others join by invite.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiPeer, PeersReply } from '../../host/api/contract/index.ts'
import { encodeHashB64 } from '../../host/identity/hash.ts'
import { openAgentKey } from '../../host/identity/keystore.ts'
import { TINY_MODEL, writeLlamaModel } from '../../host/inference/gguf-gen/llama-generator.ts'
import { MESH_FILE, privateMeshOf } from '../../host/membership/private-mesh.ts'
import { REPO_ROOT, type RunningRipple, runRipple, startRipple } from '../e2e/ripple-process.ts'
import { createNatLab, type NatLab, type NatLabInit, PUBLIC_IP } from './nat-lab.ts'

export interface LabPeer {
  name: string
  netns: string
  dataDir: string
  agent: string
  process: RunningRipple
}

export interface LabMeshInit extends NatLabInit {
  /** Extra `ripple relay` flags (limits). */
  relayArgs?: readonly string[]
  /** A testnet that requires invites, home1 its admin. */
  requireInvite?: boolean
}

export interface LabPeerOptions {
  /** Default `home<n>`; another name runs one more peer in that home. */
  name?: string
  /** More `ripple up` flags (`--join-file`, another `--network`). */
  args?: readonly string[]
}

const line = (text: string, re: RegExp) => re.exec(text)?.[1] ?? ''

export const relayedLink = (p: ApiPeer) => p.status === 'online' && p.link?.path === 'relayed'

/** `ripple infer` arguments for a long answer (3000 tokens, about 50 KiB as the runner batches its tokens). */
export const LONG_STREAMED_ANSWER = [
  'infer',
  'tell a long story',
  '--model',
  'tiny',
  '--max-tokens',
  '3000',
  '--seed',
  '3',
  '--stream',
  // As a task: these tests follow its one attempt and signed Result over the relayed link.
  '--route',
  'round',
]

export class LabMesh {
  /** By home number - 1. */
  readonly peers: LabPeer[] = []
  relay!: RunningRipple
  relayId = ''
  bootstrap = ''
  /** The mesh of a lab that requires invites (home1's), as the relay serves it. */
  meshFile = ''
  /** Peers started under another name than their home's. */
  readonly others: LabPeer[] = []

  private constructor(
    readonly lab: NatLab,
    readonly root: string,
    readonly networkFile: string,
  ) {}

  static async start(init: LabMeshInit): Promise<LabMesh> {
    const lab = await createNatLab(init)
    const root = await mkdtemp(join(tmpdir(), 'ripple-nat-lab-'))
    const mesh = new LabMesh(lab, root, join(root, 'natnet.json'))
    try {
      const testnet = JSON.parse(await readFile(join(REPO_ROOT, 'networks', 'testnet.json'), 'utf8'))
      const natnet = {
        ...testnet,
        name: 'natnet',
        seed: `natnet-${Date.now()}-${Math.random()}`,
        heartbeat: { interval_ms: 1000, stale_after_missed: 3, offline_after_ms: 10_000 },
        ...(init.requireInvite ? { require_invite: true } : {}),
      }
      await writeFile(mesh.networkFile, JSON.stringify(natnet))
      let served = mesh.networkFile
      if (init.requireInvite) {
        const adminDir = join(root, 'home1')
        const admin = await openAgentKey(adminDir)
        mesh.meshFile = join(adminDir, MESH_FILE)
        const made = privateMeshOf(natnet, encodeHashB64(admin.agentPubKey))
        await writeFile(mesh.meshFile, JSON.stringify(made), { mode: 0o600 })
        served = mesh.meshFile
      }
      mesh.relay = await startRipple(
        [
          ...['--network', served, '--listen', `/ip4/${PUBLIC_IP}/tcp/4001`],
          ...['--data-dir', join(root, 'relay'), ...(init.relayArgs ?? [])],
        ],
        60_000,
        { netns: lab.ns.public, command: 'relay' },
      )
      mesh.relayId = line(mesh.relay.stdout(), /^ripple: relay (\S+),/m)
      mesh.bootstrap = line(mesh.relay.stdout(), /^ripple: listening (\S+)$/m)
    } catch (err) {
      await mesh.stop()
      throw err
    }
    return mesh
  }

  /**
   * `ripple up` in home `home`, named and tagged `home<n>` (or `options.name`), with the tiny model
   * when `models`. Started again on the same name, it is the same agent (same data dir).
   */
  async startPeer(home: number, models: boolean, options: LabPeerOptions = {}): Promise<LabPeer> {
    const name = options.name ?? `home${home}`
    const dataDir = join(this.root, name)
    const modelsDir = join(this.root, `${name}-models`)
    await mkdir(modelsDir, { recursive: true })
    if (models) await writeLlamaModel(join(modelsDir, 'tiny.gguf'), TINY_MODEL)
    const netns = this.lab.ns[`home${home}`]!
    const process = await startRipple(
      [
        ...['--network', this.networkFile, '--bootstrap', this.bootstrap, '--listen', '/ip4/0.0.0.0/tcp/0'],
        ...['--data-dir', dataDir, '--models-dir', modelsDir, '--api-port', '0', '--threads', '1'],
        ...['--name', name, '--tag', name, '--log-level', 'warn', ...(options.args ?? [])],
      ],
      120_000,
      { netns },
    )
    const peer = { name, netns, dataDir, agent: line(process.stdout(), /^ripple: agent (\S+)$/m), process }
    if (options.name === undefined) this.peers[home - 1] = peer
    else this.others.push(peer)
    return peer
  }

  /** `ripple <args> --data-dir <peer's>` run inside the peer's namespace. */
  cli(peer: LabPeer, args: readonly string[]) {
    return runRipple([...args, '--data-dir', peer.dataDir], { netns: peer.netns, timeoutMs: 120_000 })
  }

  async peersOf(peer: LabPeer): Promise<ApiPeer[]> {
    const res = await this.cli(peer, ['peers', '--json'])
    return res.code === 0 ? (JSON.parse(res.stdout) as PeersReply).peers : []
  }

  /** Polls `ripple peers` on `peer` until `other` is seen as `wanted` says. */
  async waitForPeer(peer: LabPeer, other: LabPeer, wanted: (p: ApiPeer) => boolean): Promise<ApiPeer> {
    for (const deadline = Date.now() + 90_000; ; ) {
      const seen = (await this.peersOf(peer)).find((p) => p.agent === other.agent)
      if (seen !== undefined && wanted(seen)) return seen
      if (Date.now() > deadline)
        throw new Error(`${peer.name} never saw ${other.name} as wanted: ${JSON.stringify(seen)}`)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }

  /** Kills every process, removes the lab (namespaces, links, rules) and the files. */
  async stop(): Promise<void> {
    for (const p of [...[...this.peers, ...this.others].map((peer) => peer.process), this.relay])
      if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
    await this.lab.destroy()
    await rm(this.root, { recursive: true, force: true })
  }
}
