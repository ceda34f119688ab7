/**
 * Many streams of one protocol open at once on one connection, as a busy requester holds them: each
 * direct request's stream waits for its runner's window to be signed (about a second), so a requester
 * sending hundreds of requests a second to one runner holds hundreds open. On real libp2p nodes over
 * loopback; with libp2p's limits as they were (256 a protocol), the streams past it were reset.
 */
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RippleNode } from '../../../host/net/create-node.ts'
import type { StoppableRequestResponse } from '../../../host/net/request-response.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

/** The node's request-response as the connection trimmer reads it. */
const activity = (node: RippleNode) => node.rpc as StoppableRequestResponse

/** Above the old limit of 256, within the new one. */
const AT_ONCE = 600

describe('streams held open', { timeout: 60_000 }, () => {
  const network = testNetwork()
  let requester: RippleNode
  let runner: RippleNode
  let open = 0
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })

  beforeAll(async () => {
    runner = await loopbackNode({ network, start: false })
    // Each stream reads its request, then waits (as for its window's proof) before it answers.
    await runner.streams.handle('held/1.0.0', async (stream) => {
      const lp = lpStream(stream)
      const asked = (await lp.read()).subarray()
      open += 1
      await released
      await lp.write(asked)
      await stream.close()
    })
    await runner.start()
    requester = await loopbackNode({ network, peers: runner.multiaddrs().map(String) })
    await waitFor('the connection', () => connectedTo(requester, [runner]))
  })
  afterAll(async () => {
    await stopAll([requester, runner])
  })

  it(`carries ${AT_ONCE} at once on one connection, none reset`, async () => {
    const answers = Array.from({ length: AT_ONCE }, async (_, i) => {
      const stream = await requester.streams.open(runner.peerId, 'held/1.0.0')
      const lp = lpStream(stream)
      await lp.write(new TextEncoder().encode(`request ${i}`))
      const answer = new TextDecoder().decode((await lp.read()).subarray())
      await stream.close()
      return answer
    })
    await waitFor(`${AT_ONCE} streams open on the runner`, () => open === AT_ONCE, 15_000)
    expect(requester.libp2p.getConnections(runner.peerId)).toHaveLength(1)
    release()
    const got = await Promise.all(answers)
    expect(got).toEqual(Array.from({ length: AT_ONCE }, (_, i) => `request ${i}`))
  })

  it('marks the peer at both ends in use while a stream is open, then when it closed (the trimmer reads it)', async () => {
    const { promise: ended, resolve: end } = Promise.withResolvers<void>()
    await runner.streams.handle('marked/1.0.0', async (stream) => {
      await ended
      await stream.close()
    })
    const before = Date.now()
    const stream = await requester.streams.open(runner.peerId, 'marked/1.0.0')
    await new Promise((resolve) => setTimeout(resolve, 300))
    // In use: "now" at both ends, not when the connection opened or its last request ended.
    expect(activity(requester).lastActiveAt(runner.peerId)).toBeGreaterThanOrEqual(before + 300)
    await waitFor(
      'the runner to mark it',
      () => (activity(runner).lastActiveAt(requester.peerId) ?? 0) >= before + 300,
    )
    end()
    await stream.close()
    await waitFor(
      'both ends closed',
      () =>
        requester.libp2p
          .getConnections(runner.peerId)[0]
          ?.streams.every((s) => s.protocol?.endsWith('marked/1.0.0') !== true) ?? true,
    )
    const closedAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const last = activity(requester).lastActiveAt(runner.peerId) ?? 0
    expect(last).toBeGreaterThanOrEqual(before + 300)
    expect(last).toBeLessThanOrEqual(closedAt)
  })
})
