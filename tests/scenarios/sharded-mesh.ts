/**
 * What the sharded scenarios (issue 57) share: a mesh of players that count each other members and
 * shard records at `record.holders` = SHARDED_HOLDERS, the capability they write (agent_registry
 * NodeCapability, held by its neighbourhood), who holds a record, and a get from its holders. Every
 * player serves `record/1.0.0` itself (createEmbeddedPeer), as the daemon's does.
 */
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { HolderGet } from '../../host/conductor/embedded/replication/holder-get.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { opBases } from '../../host/conductor/embedded/replication/op-basis.ts'
import { opHolders } from '../../host/conductor/embedded/replication/op-holders.ts'
import { MEMBERS_KEPT_MS } from '../../host/conductor/embedded/replication/op-placer.ts'
import { recordsSharded } from '../../host/conductor/embedded/replication/record-sharding.ts'
import { DEFAULT_RECORD_HOLDERS } from '../../host/config/network-schema.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, type Scenario, scenarioNetwork, waitUntil } from './harness.ts'

/** R in these scenarios: six peers are three neighbourhoods' worth. */
export const SHARDED_HOLDERS = 2

export const shardedNetwork = () => scenarioNetwork({ record: { holders: SHARDED_HOLDERS } })

const holdersOf = (player: Player) => player.network.record?.holders ?? DEFAULT_RECORD_HOLDERS

/** Whether `player` shards records now, by the members it counts. */
export const shardsNow = (player: Player): boolean =>
  recordsSharded({
    members: knownMembers(player.conductor, player.replication).length,
    holders: holdersOf(player),
    versions: player.node.versions,
  })

/** Until each of `players` counts `members` members and shards; then its placement reads them (a second). */
export async function membersKnown(players: readonly Player[], members: number): Promise<void> {
  await waitUntil(30_000, () =>
    players.every((p) => knownMembers(p.conductor, p.replication).length >= members && shardsNow(p)),
  )
  await new Promise((resolve) => setTimeout(resolve, MEMBERS_KEPT_MS + 200))
}

/** `count` players, connected, each counting every other a member and sharding. */
export async function shardedMesh(scenario: Scenario, count: number): Promise<Player[]> {
  const players = await scenario.addPlayers(count)
  await scenario.shareAllAgents()
  await membersKnown(players, count)
  return players
}

/** `author` writes a capability through the zome, as a daemon does; its action hash. */
export async function writeCapability(author: Player, name: string): Promise<string> {
  const ref = await author.conductor.callZome('agent_registry', 'advertise_capability', capability({ name }))
  return ref.action_hash
}

/** `player` runs and holds the op of `hash`. */
export const holds = (player: Player, hash: string): boolean =>
  player.running && player.conductor.store.getAction(decodeHashB64(hash, 'action')) !== null

/** The bases of the record `hash` (an update's original too), read where `holder` holds it. */
export function basesOf(holder: Player, hash: string): Uint8Array[] {
  const action = holder.conductor.store.getAction(decodeHashB64(hash, 'action'))!
  return opBases(decodeAction(action.bytes), action.hash)
}

/** The record's basis holders among `members`: of each of its bases. */
export function basisHolders(members: readonly Player[], bases: readonly Uint8Array[]): Player[] {
  const agents = members.map((p) => p.agentPubKey)
  const holders = new Set(bases.flatMap((basis) => opHolders(basis, agents, holdersOf(members[0]!))))
  return members.filter((p) => holders.has(p.agentPubKey))
}

/** The get from holders `asker` makes, over the members it counts now. */
export function holderGetOf(asker: Player): HolderGet {
  return new HolderGet({
    rpc: asker.node.rpc,
    conductor: asker.conductor,
    replication: asker.replication,
    members: () => knownMembers(asker.conductor, asker.replication),
    holders: holdersOf(asker),
    timeoutMs: 5_000,
  })
}

/** A record written, and its author. */
export interface Written {
  hash: string
  author: Player
}

/** Which of each record's basis holders among `players` lack it now (`<name> lacks <hash>`). */
export function unheldOf(players: readonly Player[], written: readonly Written[]): () => string[] {
  const placed = written.map(({ hash, author }) => ({
    hash,
    holders: basisHolders(players, basesOf(author, hash)),
  }))
  return () =>
    placed.flatMap(({ hash, holders }) =>
      holders.filter((p) => !holds(p, hash)).map((p) => `${p.name} lacks ${hash}`),
    )
}

/** Each of `askers` gets every record of `written` it does not hold from its holders (rejects if one fails). */
export async function gotFromHolders(askers: readonly Player[], written: readonly Written[]): Promise<void> {
  for (const asker of askers) {
    const get = holderGetOf(asker)
    for (const { hash } of written.filter(({ hash }) => !holds(asker, hash)))
      await get.get('agent_registry', hash)
  }
}
