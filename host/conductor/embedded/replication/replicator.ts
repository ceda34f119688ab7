/**
 * Replication of an embedded conductor over its peer's libp2p node. While records are not sharded
 * (record-sharding.ts) every peer keeps every op and every commit goes on the `ops` gossip channel;
 * once they are, where each op lives and whom it is pushed to is op-placer.ts's (issue 57). Every op
 * received (gossip, push or catch-up) goes through the ingest pipeline; anti-entropy runs with each
 * peer as it connects (peer-syncs.ts), every `intervalMs` with a few random peers, and with the sender
 * of any op that arrived before what it builds on. Revocations an admin wrote are enforced
 * (revocation-guard.ts): the revoked agent's connections are dropped and refused, its later ops ignored.
 */
import type { PeerId } from '@libp2p/interface'
import { DNA_NAMES, type DnaName } from '../../../../zomes-bindings/index.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../../config/network-schema.ts'
import { decodeHashB64, encodeHashB64 } from '../../../identity/hash.ts'
import { agentOfPeer, peerIdOfAgent } from '../../../identity/peer-agent.ts'
import type { ReplicationStats, WarrantView } from '../../../interface/network-port.ts'
import { type Logger, silentLogger } from '../../../log/logger.ts'
import type { RippleNode } from '../../../net/create-node.ts'
import type { GossipMessage, RipplePubsubEvents } from '../../../net/pubsub.ts'
import type { StoredAction } from '../../../storage/chain-store.ts'
import type { EmbeddedConductor } from '../conductor.ts'
import type { RecordBeside } from '../validation/record-rules.ts'
import { AntiEntropy, SYNC_PROTOCOL } from './anti-entropy.ts'
import { inBackground } from './background-round.ts'
import { MalformedMessageError } from './errors.ts'
import { HeldNeeds } from './held-needs.ts'
import { HolderGet } from './holder-get.ts'
import type { HeldNeed } from './ingest-result.ts'
import { LegacySeals } from './legacy-seals.ts'
import { MemberRoll } from './member-roll.ts'
import { knownMembers } from './membership.ts'
import { NeighbourhoodUpkeep } from './neighbourhood-upkeep.ts'
import { type IngestResult, OpIngest } from './op-ingest.ts'
import { OpPlacer } from './op-placer.ts'
import { OpPublisher } from './op-publisher.ts'
import { OpPusher, pushHandler, RECORD_PUSH_PROTOCOL } from './op-push.ts'
import { decodeOpBatch, type OpBatch, type WireOp, wireOpOf } from './op-wire.ts'
import { PeerSyncs } from './peer-syncs.ts'
import { byDna, countReceived, gossipVerdict, noStats, type Route } from './received-counts.ts'
import type { OpsStoredEvent, Replication, ReplicationInit } from './replication-port.ts'
import { RevocationGuard } from './revocation-guard.ts'
import { warrantView } from './warrant-view.ts'

export type { OpsStoredEvent, Replication, ReplicationInit }

const DEFAULT_INTERVAL_MS = 5_000
const DEFAULT_PEERS_PER_ROUND = 2

export async function startReplication(init: ReplicationInit): Promise<Replication> {
  const replicator = new Replicator(init)
  await replicator.start()
  return replicator
}

class Replicator implements Replication {
  readonly #conductor: EmbeddedConductor
  readonly #node: RippleNode
  readonly #logger: Logger
  readonly #intervalMs: number
  readonly #ingest: OpIngest
  readonly #revocations: RevocationGuard
  readonly #seals = new LegacySeals()
  readonly #antiEntropy: AntiEntropy
  readonly #dnaNames = new Map<string, DnaName>()
  readonly #listeners = new Set<(event: OpsStoredEvent) => void>()
  readonly #abort = new AbortController()
  readonly #syncs: PeerSyncs
  readonly #placer: OpPlacer
  readonly #upkeep: NeighbourhoodUpkeep
  readonly #publisher: OpPublisher
  readonly #heldNeeds: HeldNeeds
  readonly #stats = noStats()
  readonly #roll: MemberRoll
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #stopped = false
  /** Gossip received in this turn of the event loop, taken in at its end. */
  readonly #inbox: { message: GossipMessage; batch: OpBatch }[] = []

  constructor(init: ReplicationInit) {
    this.#conductor = init.conductor
    this.#node = init.node
    this.#logger = (init.logger ?? silentLogger()).child({ component: 'replication' })
    this.#intervalMs = init.intervalMs ?? DEFAULT_INTERVAL_MS
    const cells = DNA_NAMES.map((dna) => init.conductor.cell(dna))
    for (const cell of cells) this.#dnaNames.set(encodeHashB64(cell.dnaHash), cell.dna.name)
    const self = decodeHashB64(init.conductor.agentPubKey, 'agent')
    this.#revocations = new RevocationGuard({
      conductor: init.conductor,
      node: init.node,
      logger: this.#logger,
      refusedAsRevoked: (agent) => this.#ingest.wasRefusedAsRevoked(agent),
    })
    this.#ingest = new OpIngest({
      store: init.conductor.store,
      cells,
      self,
      logger: this.#logger,
      revocations: this.#revocations.list,
      onRevoked: (agent) => this.#revocations.onRevoked(agent),
      seals: this.#seals,
      place: (cell, action, hash) => this.#placer.place(cell, action, hash).keep,
    })
    // The rules of a genesis judge its witness and its legacy grant by what this peer holds.
    init.conductor.standing.attach({
      barred: (agent) => this.isRevoked(agent) || this.isWarranted(agent),
      legacySealed: () => this.#seals.sealed(),
    })
    this.#antiEntropy = new AntiEntropy({
      rpc: init.node.rpc,
      store: init.conductor.store,
      ingest: this.#ingest,
      dnaHashes: cells.map((cell) => cell.dnaHash),
      self,
      deliver: (batch, from) => this.#receive(batch, from, 'catch-up'),
      signal: this.#abort.signal,
      chainsWith: (peer) => this.#upkeep.chainsWith(peer),
    })
    const holders = init.holders ?? DEFAULT_RECORD_HOLDERS
    this.#roll = new MemberRoll({
      read: () => knownMembers(init.conductor, this),
      stamp: () =>
        init.conductor.store.writeCount() +
        this.#revocations.list.size +
        init.conductor.store.listWarrants().length +
        (this.#seals.sealed()?.size ?? 0),
    })
    // Gone members place nothing: their ops' next closest members take them (neighbourhood-upkeep.ts).
    const members = () => this.#upkeep.present(this.#roll.members())
    this.#placer = new OpPlacer({
      self: init.conductor.agentPubKey,
      store: init.conductor.store,
      members,
      holders,
      versions: init.node.versions,
    })
    const pusher = new OpPusher({
      rpc: init.node.rpc,
      logger: this.#logger,
      signal: this.#abort.signal,
      stats: this.#stats.pushes,
    })
    this.#upkeep = new NeighbourhoodUpkeep({
      conductor: init.conductor,
      node: init.node,
      placer: this.#placer,
      holders,
      pusher,
      barred: (agent) => this.isWarranted(agent) || this.isRevoked(agent),
      deliver: (batch, from) => this.#receive(batch, from, 'catch-up'),
      signal: this.#abort.signal,
    })
    this.#publisher = new OpPublisher({
      pubsub: init.node.pubsub,
      placer: this.#placer,
      pusher: this.#upkeep.pusher,
      cellOf: (dnaHash) => this.#ingest.cellOf(dnaHash),
      logger: this.#logger,
      onPublished: (ops) => {
        this.#stats.published += ops
      },
      stopped: () => this.#stopped,
    })
    const holderGet = new HolderGet({ ...init, rpc: init.node.rpc, replication: this, members, holders })
    this.#heldNeeds = new HeldNeeds({
      holderGet,
      receive: (need, beside) => this.#receiveHeld(need, beside),
      logger: this.#logger,
      signal: this.#abort.signal,
    })
    this.#syncs = new PeerSyncs({
      exchange: (peer) => this.#exchange(peer),
      waiting: () => this.#ingest.pendingCount > 0,
      peersPerRound: init.peersPerRound ?? DEFAULT_PEERS_PER_ROUND,
      intervalMs: this.#intervalMs,
    })
  }

  async start(): Promise<void> {
    // Open to the network: a newcomer's genesis arrives this way. Upkeep: no use of a peer (peer-activity.ts).
    await this.#node.rpc.handle(SYNC_PROTOCOL, this.#antiEntropy.handler, {
      openToNetwork: true,
      use: 'upkeep',
    })
    // Members only: a neighbourhood op is pushed to its holders (op-push.ts); brief: others each op.
    await this.#node.rpc.handle(
      RECORD_PUSH_PROTOCOL,
      pushHandler((batch, from) => {
        const result = this.#receive(batch, from, 'pushed')
        // It builds on ops not held here (a gap in a chain this peer keeps): its author has them.
        if (result?.waiting) this.#syncs.soon(from)
        return result
      }, this.#stats.pushes),
      { use: 'brief' },
    )
    await this.#upkeep.start()
    await this.#revocations.start()
    const seals = await this.#conductor.callZome('agent_registry', 'list_legacy_seals', null)
    for (const record of seals) this.#seals.add(record.entry)
    this.#unsubscribe = this.#conductor.onOpsCommitted((event) => {
      const cell = this.#conductor.cell(event.dna)
      for (const a of event.actions) this.#ingest.noteRevocation(cell, a.content, a.entry)
      this.#publisher.enqueue(
        event.dnaHash,
        event.actions.map((a) => ({
          op: wireOpOf(a.action, a.entry),
          action: a.content,
          hash: a.action.hash,
        })),
      )
    })
    this.#node.pubsub.addEventListener('op', this.#onGossip)
    this.#node.pubsub.addEventListener('subscribed', this.#onSubscribed)
    this.#node.peers.addEventListener('peer:connect', this.#onConnect)
    this.#timer = setInterval(() => {
      this.#syncs.round(this.#node.peers.list())
      inBackground(this.#upkeep.round(), this.#logger, () => this.#stopped)
    }, this.#intervalMs)
    // Replication alone should not keep a process alive.
    this.#timer.unref()
    for (const peer of this.#node.peers.list()) void this.#syncs.sync(peer)
  }

  get stats(): ReplicationStats {
    return { ...this.#stats, pending: this.#ingest.pendingCount, pushes: { ...this.#stats.pushes } }
  }

  listWarrants(): WarrantView[] {
    return this.#conductor.store.listWarrants().map((warrant) => warrantView(warrant, this.#dnaNames))
  }

  warrantAuthor(dna: DnaName, agent: string, actionHash: string, rule: string, reason: string): void {
    this.#ingest.warrant(
      decodeHashB64(agent, 'agent'),
      this.#conductor.cell(dna).dnaHash,
      decodeHashB64(actionHash, 'action'),
      rule,
      reason,
    )
  }

  isWarranted(agent: string): boolean {
    return this.#ingest.isWarranted(agent)
  }

  isRevoked(agent: string): boolean {
    return this.#revocations.isRevoked(agent)
  }

  legacySealed(): ReadonlySet<string> | null {
    return this.#seals.sealed()
  }

  members(): readonly string[] {
    return this.#roll.members()
  }

  isMember(agent: string): boolean {
    return agent === this.#conductor.agentPubKey || this.#roll.has(agent)
  }

  receiveCarried(dna: DnaName, ops: WireOp[], from: string): IngestResult | null {
    const peer = peerIdOfAgent(from)
    const result = this.#receive({ dnaHash: this.#conductor.cell(dna).dnaHash, ops }, peer, 'carried')
    if (result?.waiting) this.#syncs.soon(peer)
    return result
  }

  async syncNow(): Promise<void> {
    await Promise.all(this.#node.peers.list().map((peer) => this.#syncs.sync(peer)))
  }

  onOpsStored(listener: (event: OpsStoredEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    this.#unsubscribe?.()
    this.#node.pubsub.removeEventListener('op', this.#onGossip)
    this.#node.pubsub.removeEventListener('subscribed', this.#onSubscribed)
    this.#node.peers.removeEventListener('peer:connect', this.#onConnect)
    this.#abort.abort(new Error('replication stopped'))
    await this.#syncs.stop()
    // The node may be stopping too; a handler it no longer has is no error.
    await this.#node.rpc.unhandle(SYNC_PROTOCOL).catch(() => {})
    await this.#node.rpc.unhandle(RECORD_PUSH_PROTOCOL).catch(() => {})
    await this.#upkeep.stop()
  }

  /** Gossip taken in once per turn of the loop: a burst's messages land in one store transaction. */
  readonly #onGossip = (evt: CustomEvent<GossipMessage>) => {
    const message = evt.detail
    let batch: OpBatch
    try {
      batch = decodeOpBatch(message.data)
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err
      this.#logger.debug({ err, from: message.from.toString() }, 'ignored a malformed op batch')
      message.verdict('reject')
      return
    }
    if (this.#inbox.length === 0) setImmediate(() => this.#takeInbox())
    this.#inbox.push({ message, batch })
  }

  #takeInbox(): void {
    const inbox = this.#inbox.splice(0)
    const results = this.#receiveAll(
      inbox.map(({ message, batch }) => ({ batch, from: message.from })),
      'gossip',
    )
    for (const [i, { message }] of inbox.entries()) {
      const result = results[i]
      message.verdict(gossipVerdict(result?.counts))
      if (result?.waiting) this.#syncs.soon(message.from) // it builds on ops its sender has, not held here
    }
  }

  readonly #onConnect = ({ detail }: CustomEvent<PeerId>) =>
    void this.#syncs.connected(detail, this.#placer.sharded)
  readonly #onSubscribed = ({ detail }: RipplePubsubEvents['subscribed']) =>
    detail.channel === 'ops' && this.#syncs.subscribed(detail.peer, this.#placer.sharded)

  #receive(batch: OpBatch, from: PeerId, route: Route): IngestResult | null {
    return this.#receiveAll([{ batch, from }], route)[0] ?? null
  }

  /** Ingests the batches in one store transaction; each one's result (null where it failed), in order. */
  #receiveAll(batches: readonly { batch: OpBatch; from: PeerId }[], route: Route): (IngestResult | null)[] {
    if (this.#stopped) return batches.map(() => null)
    for (const { from } of batches) this.#upkeep.saw(from)
    let results: IngestResult[]
    try {
      results = this.#ingest.receiveAll(
        // Carried ops are this peer's to check (a runner's batch beside its proof): kept, holder or not.
        batches.map(({ batch, from }) => ({ batch, sender: agentOfPeer(from), kept: route === 'carried' })),
      )
    } catch (err) {
      this.#logger.error({ err }, 'storing received ops failed')
      return batches.map(() => null)
    }
    const stored: StoredAction[] = []
    for (const [i, result] of results.entries()) {
      // What ops' rules read and is not here: got from holders, judged again (unsharded, it comes here).
      if (result.needs.length > 0 && this.#placer.sharded) this.#heldNeeds.take(result.needs)
      countReceived(this.#stats, route, batches[i]!.batch.ops.length, result.counts)
      stored.push(...result.stored)
    }
    if (stored.length > 0) this.#emitStored(stored)
    return results
  }

  /** A held op judged again beside what its rules read, got from holders. */
  #receiveHeld(need: HeldNeed, beside: RecordBeside[]): IngestResult | null {
    if (this.#stopped) return null
    const result = this.#ingest.receiveHeld(need, beside)
    this.#stats.stored += result.counts.stored
    if (result.stored.length > 0) this.#emitStored(result.stored)
    return result
  }

  #emitStored(actions: StoredAction[]): void {
    for (const [key, stored] of byDna(actions)) {
      const event: OpsStoredEvent = { dna: this.#dnaNames.get(key)!, actions: stored }
      // A genesis or a revocation may have changed who the members are: placed afresh.
      if (event.dna === 'agent_registry') this.#placer.membersChanged()
      for (const listener of this.#listeners) {
        try {
          listener(event)
        } catch (err) {
          this.#logger.error({ err, dna: event.dna }, 'opsStored listener failed')
        }
      }
    }
  }

  async #exchange(peer: PeerId): Promise<boolean> {
    const agent = agentOfPeer(peer)
    if (this.#stopped || (agent !== null && this.#ingest.isWarranted(agent))) return true
    try {
      await this.#antiEntropy.syncWith(peer)
      await this.#upkeep.syncWith(peer)
      this.#stats.syncs++
      return true
    } catch (err) {
      // Unreachable or gone peers are normal churn: the next round tries again.
      if (!this.#stopped) this.#logger.debug({ err, peer: peer.toString() }, 'anti-entropy exchange failed')
      return false
    }
  }
}
