/**
 * The nodes this host knows (their advertised capabilities), read at most once a second however many
 * tasks ask, and which of them could run a task.
 *
 * Where records are sharded a capability is a neighbourhood record and reading every member's
 * (list_nodes) costs O(N) reads from holders: a task's capable nodes are then the first members in the
 * task's rendezvous order whose capability meets it, read one by one (kept by the registry) until the
 * task's eager claimants are found (its fan-out and a spare, claimant-plan.ts) or WALK_MAX were read,
 * and this host. That is enough: the eager claimants are the first capable nodes in that order whatever
 * else is capable, and every host walks the same members (the membership each holds) in the same order,
 * so they agree on them as they did over the whole list; a host past the walk ranks itself behind
 * those found (late). A walk that read its bound of a larger mesh and found too few looks up the task's
 * rarest tag in the registry's tag index (rare-tag.ts; one find_nodes_by_tag: the tag anchor's links
 * from its holders and each listed member's capability) and adds the first capable members it lists in
 * the same order: every capable member lies in that index, and those the walk found come before any it
 * did not, so every host still agrees on the eager claimants. A capability so rare that neither finds
 * enough (no rare tag among its requirements) leaves every capable host past the walk eager: at most as
 * many claims as capable nodes.
 */
import type { EntryRecord, NodeCapability, Task } from '../../zomes-bindings/index.ts'
import type { ConductorPort } from '../interface/conductor-port.ts'
import { rendezvousOrder } from '../interface/rendezvous.ts'
import type { WorkersPort } from '../workers/workers-port.ts'
import { type CapableNode, SPARE_CLAIMANTS } from './claimant-plan.ts'
import { rareTag } from './rare-tag.ts'
import { claimSnapshotOf, unmetRequirement } from './requirements.ts'

const CACHE_MS = 1000
/** Members whose capability a task's walk reads at most. */
export const WALK_MAX = 32
/** Read at once in a walk. */
const WALK_BATCH = 8
/** Capabilities the walks met that `list` shows, at most. */
const WALKED_MAX = 1024

type Known = Pick<EntryRecord<NodeCapability>, 'author' | 'entry'>

/** Where records can be sharded: whether they are now, the members on record, and one's capability. */
export interface ShardedNodes {
  now(): boolean
  /** The members on record, this host among them. */
  members(): readonly string[]
  /** A member's capability (this host's as advertised), kept or read from its holders; null: none. */
  capabilityOf(agent: string): Promise<Known | null>
}

export class KnownNodes {
  readonly #conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
  readonly #workers: WorkersPort
  readonly #sharded: ShardedNodes | null
  readonly #walkMax: number
  #read: { at: number; list: Promise<EntryRecord<NodeCapability>[]> } | null = null
  /** Sharded: each task's walk, reused for a second; and every capability the walks read. */
  readonly #walks = new Map<string, { at: number; nodes: Promise<Known[]> }>()
  readonly #walked = new Map<string, Known>()

  constructor(init: {
    conductor: Pick<ConductorPort, 'callZome' | 'agentPubKey'>
    workers: WorkersPort
    sharded?: ShardedNodes | null
    /** Members a walk reads at most; default WALK_MAX (tests lower it). */
    walkMax?: number
  }) {
    this.#conductor = init.conductor
    this.#workers = init.workers
    this.#sharded = init.sharded ?? null
    this.#walkMax = init.walkMax ?? WALK_MAX
  }

  /** Every node known: all members' capabilities, or where sharded, those the walks read. */
  list(): Promise<Known[]> {
    if (this.#sharded?.now()) return Promise.resolve([...this.#walked.values()])
    if (this.#read === null || Date.now() - this.#read.at > CACHE_MS) {
      const list = this.#conductor.callZome('agent_registry', 'list_nodes', null)
      this.#read = { at: Date.now(), list }
      // A failed read is not kept: the next ask tries again.
      list.catch(() => {
        if (this.#read?.list === list) this.#read = null
      })
    }
    return this.#read.list
  }

  /** The agents whose advertised capability meets the task's requirements. */
  async capable(task: EntryRecord<Task>): Promise<string[]> {
    return (await this.capableNodes(task)).map((n) => n.author)
  }

  /** The same, each with what it would claim with at best (its advertised capability, queue empty). */
  async capableNodes(task: EntryRecord<Task>): Promise<CapableNode[]> {
    const sharded = this.#sharded?.now() ? this.#sharded : null
    const nodes = sharded ? await this.#walk(task, sharded) : await this.list()
    return nodes
      .map((n) => ({ author: n.author, snapshot: claimSnapshotOf(n.entry, 0) }))
      .filter((n) => this.#meets(task.entry, n))
  }

  #meets(task: Task, node: CapableNode): boolean {
    return unmetRequirement(task.requirements, node.snapshot, this.needsModel(task)) === null
  }

  /** Whether a member's advertised capability (queue empty) meets the task. */
  #metBy(task: Task, node: Known): boolean {
    return this.#meets(task, { author: node.author, snapshot: claimSnapshotOf(node.entry, 0) })
  }

  /** The task's walk (see above), reused for a second. */
  #walk(task: EntryRecord<Task>, sharded: ShardedNodes): Promise<Known[]> {
    const now = Date.now()
    const kept = this.#walks.get(task.action_hash)
    if (kept !== undefined && now - kept.at <= CACHE_MS) return kept.nodes
    for (const [hash, walk] of this.#walks) if (now - walk.at > CACHE_MS) this.#walks.delete(hash)
    const nodes = this.#walkNow(task, sharded)
    this.#walks.set(task.action_hash, { at: now, nodes })
    nodes.catch(() => this.#walks.delete(task.action_hash))
    return nodes
  }

  async #walkNow(task: EntryRecord<Task>, sharded: ShardedNodes): Promise<Known[]> {
    const me = this.#conductor.agentPubKey
    const members = sharded.members()
    const order = rendezvousOrder(task.action_hash, members).slice(0, this.#walkMax)
    const wanted = task.entry.fan_out + SPARE_CLAIMANTS
    const found: Known[] = []
    let capable = 0
    for (let i = 0; i < order.length && capable < wanted; i += WALK_BATCH) {
      // A read that fails (no holder answered in time) counts as a member not capable: one far member
      // must not stop every task whose walk meets it from being planned.
      const batch = order.slice(i, i + WALK_BATCH)
      const read = await Promise.all(batch.map((a) => sharded.capabilityOf(a).catch(() => null)))
      for (const node of read) {
        if (node === null || capable >= wanted) continue
        found.push(node)
        if (this.#metBy(task.entry, node)) capable++
      }
    }
    const short = order.length < members.length && capable < wanted
    if (short)
      found.push(...(await this.#tagged(task, members, found, { wanted, missing: wanted - capable })))
    if (!found.some((n) => n.author === me)) {
      const own = await sharded.capabilityOf(me)
      if (own !== null) found.push(own)
    }
    for (const node of found) {
      this.#walked.delete(node.author)
      this.#walked.set(node.author, node)
    }
    // Those met longest ago go first past WALKED_MAX.
    for (const agent of this.#walked.keys()) if (this.#walked.size > WALKED_MAX) this.#walked.delete(agent)
    return found
  }

  /**
   * The first `missing` capable members past the walk in the task's order, from the index of its rarest
   * tag; none where no tag is rare among those `walked` or the index could not be read (as a walk's
   * failed read: the task is planned with what was found).
   */
  async #tagged(
    task: EntryRecord<Task>,
    members: readonly string[],
    walked: readonly Known[],
    { wanted, missing }: { wanted: number; missing: number },
  ): Promise<Known[]> {
    const tag = rareTag(
      task.entry.requirements.tags,
      walked.map((n) => n.entry),
      wanted,
    )
    if (tag === null) return []
    const listed = await this.#conductor.callZome('agent_registry', 'find_nodes_by_tag', tag).catch(() => [])
    const seen = new Set(walked.map((n) => n.author))
    const member = new Set(members)
    const capable = new Map(
      listed
        .filter((n) => member.has(n.author) && !seen.has(n.author))
        .filter((n) => this.#metBy(task.entry, n))
        .map((n) => [n.author, n]),
    )
    return rendezvousOrder(task.action_hash, [...capable.keys()])
      .slice(0, missing)
      .map((agent) => capable.get(agent)!)
  }

  /** Whether the task's worker runs on a model (so a node needs some model to be capable). */
  needsModel(task: Task): boolean {
    return this.#workers.get(task.kind)?.needsModel === true
  }
}
