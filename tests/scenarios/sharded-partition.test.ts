/**
 * A partition long enough that each side counts the other gone (issue 57): records sharded among
 * their holders (`record.holders` = 2) on six real peers split 3|3 past GONE_MS, written before and
 * after it on both sides, then healed. No honest author is warranted (before 8642092 and 3cc535a, 4
 * runs in 5 warranted some: chain.fork at seq 4-7), and every acknowledged record is held by its
 * holders over the whole mesh and got from them on both sides.
 */
import { describe, expect, it } from 'vitest'
import { decodeAction } from '../../host/conductor/embedded/action.ts'
import { HolderGet } from '../../host/conductor/embedded/replication/holder-get.ts'
import { knownMembers } from '../../host/conductor/embedded/replication/membership.ts'
import { opBases } from '../../host/conductor/embedded/replication/op-basis.ts'
import { opHolders } from '../../host/conductor/embedded/replication/op-holders.ts'
import { MEMBERS_KEPT_MS } from '../../host/conductor/embedded/replication/op-placer.ts'
import { recordsSharded } from '../../host/conductor/embedded/replication/record-sharding.ts'
import { decodeHashB64 } from '../../host/identity/hash.ts'
import { capability } from '../unit/conductor/fixtures/capability.ts'
import { type Player, runScenario, scenarioNetwork, waitUntil } from './harness.ts'
import { partition } from './partition.ts'

const HOLDERS = 2
/**
 * Past the while after which each side counts the other gone (12 rounds of the harness's 500 ms, or a
 * push's retries and a failed dial: 10 s and a round), so the writes after it are placed by that view.
 */
const GONE_MS = 11_000

const holds = (player: Player, hash: string) =>
  player.running && player.conductor.store.getAction(decodeHashB64(hash, 'action')) !== null

function basisHolders(members: readonly Player[], author: Player, hash: string): Player[] {
  const action = author.conductor.store.getAction(decodeHashB64(hash, 'action'))!
  const agents = members.map((p) => p.agentPubKey)
  const holders = new Set(
    opBases(decodeAction(action.bytes), action.hash).flatMap((b) => opHolders(b, agents, HOLDERS)),
  )
  return members.filter((p) => holders.has(p.agentPubKey))
}

describe('records sharded among holders, through a long partition', { timeout: 240_000 }, () => {
  it('warrants no honest author and finds every record again once a partition past gone heals', async () => {
    await runScenario({ network: scenarioNetwork({ record: { holders: HOLDERS } }) }, async (scenario) => {
      const players = await scenario.addPlayers(6)
      await scenario.shareAllAgents()
      await waitUntil(30_000, () =>
        players.every((p) => {
          const members = knownMembers(p.conductor, p.replication).length
          return members >= 6 && recordsSharded({ members, holders: HOLDERS, versions: p.node.versions })
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, MEMBERS_KEPT_MS + 200))

      const [left, right] = [players.slice(0, 3), players.slice(3)]
      const heal = await partition(left, right)
      const written: { hash: string; author: Player }[] = []
      const write = async (round: string) => {
        for (const [i, author] of players.entries()) {
          const ref = await author.conductor.callZome(
            'agent_registry',
            'advertise_capability',
            capability({ name: `split-${i}-${round}` }),
          )
          written.push({ hash: ref.action_hash, author })
        }
      }
      await write('a')
      await new Promise((resolve) => setTimeout(resolve, GONE_MS))
      await write('b')
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      await write('c')
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      for (const { hash, author } of written) expect(holds(author, hash)).toBe(true)
      await heal()
      await scenario.shareAllAgents()

      const placed = written.map(({ hash, author }) => ({
        hash,
        holders: basisHolders(players, author, hash),
      }))
      const unheld = () =>
        placed.flatMap(({ hash, holders }) =>
          holders.filter((p) => !holds(p, hash)).map((p) => `${p.name} lacks ${hash}`),
        )
      const warrants = () => players.flatMap((p) => p.replication.listWarrants())
      await waitUntil(90_000, () => unheld().length === 0 || warrants().length > 0).catch(() => {
        throw new Error(`not held after the partition healed: ${unheld().join(', ')}`)
      })
      expect(warrants()).toEqual([])
      await waitUntil(60_000, () => unheld().length === 0).catch(() => {
        throw new Error(`not held after the partition healed: ${unheld().join(', ')}`)
      })
      for (const asker of [left[0]!, right[0]!]) {
        const get = new HolderGet({
          rpc: asker.node.rpc,
          conductor: asker.conductor,
          replication: asker.replication,
          members: () => knownMembers(asker.conductor, asker.replication),
          holders: HOLDERS,
          timeoutMs: 5_000,
        })
        for (const { hash } of written.filter(({ hash }) => !holds(asker, hash))) {
          const got = await get.get('agent_registry', hash)
          expect(got.action).toBeDefined()
        }
      }
      // A few rounds more: still no warrant anywhere.
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(warrants()).toEqual([])
    })
  })
})
