/**
 * A partition long enough that each side counts the other gone (issue 57): records sharded among
 * their holders (`record.holders` = 2) on six real peers split 3|3 past GONE_MS, written before and
 * after it on both sides, then healed. No honest author is warranted (before 8642092 and 3cc535a, 4
 * runs in 5 warranted some: chain.fork at seq 4-7), and every acknowledged record is held by its
 * holders over the whole mesh and got from them on both sides.
 */
import { describe, expect, it } from 'vitest'
import { runScenario, waitUntil } from './harness.ts'
import { partition } from './partition.ts'
import {
  gotFromHolders,
  holds,
  shardedMesh,
  shardedNetwork,
  unheldOf,
  type Written,
  writeCapability,
} from './sharded-mesh.ts'

/**
 * Past the while after which each side counts the other gone (12 rounds of the harness's 500 ms, or a
 * push's retries and a failed dial: 10 s and a round), so the writes after it are placed by that view.
 */
const GONE_MS = 11_000

describe('records sharded among holders, through a long partition', { timeout: 240_000 }, () => {
  it('warrants no honest author and finds every record again once a partition past gone heals', async () => {
    await runScenario({ network: shardedNetwork() }, async (scenario) => {
      const players = await shardedMesh(scenario, 6)
      const [left, right] = [players.slice(0, 3), players.slice(3)]
      const heal = await partition(left, right)
      const written: Written[] = []
      const write = async (round: string) => {
        for (const [i, author] of players.entries())
          written.push({ hash: await writeCapability(author, `split-${i}-${round}`), author })
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

      const unheld = unheldOf(players, written)
      const warrants = () => players.flatMap((p) => p.replication.listWarrants())
      await waitUntil(90_000, () => unheld().length === 0 || warrants().length > 0).catch(() => {
        throw new Error(`not held after the partition healed: ${unheld().join(', ')}`)
      })
      expect(warrants()).toEqual([])
      await waitUntil(60_000, () => unheld().length === 0).catch(() => {
        throw new Error(`not held after the partition healed: ${unheld().join(', ')}`)
      })
      await gotFromHolders([left[0]!, right[0]!], written)
      // A few rounds more: still no warrant anywhere.
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(warrants()).toEqual([])
    })
  })
})
