/**
 * The agent port over real libp2p nodes on loopback: a stream opened to an agent reaches the handler
 * with the opener's agent, a request to an agent is answered with the asker's, an answer that failed
 * there rejects here, one unhandle ends either kind, and a round trip is measured in whole ms.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentOfPeerB64 } from '../../../host/identity/peer-agent.ts'
import type { AgentPort } from '../../../host/interface/agent-port.ts'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { RemoteHandlerError } from '../../../host/net/errors.ts'
import { libp2pAgentPort } from '../../../host/node/agent-port.ts'
import { connectedTo, loopbackNode, stopAll, testNetwork, waitFor } from '../net/net-fixtures.ts'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

describe('the agent port', { timeout: 30_000 }, () => {
  const network = testNetwork()
  let server: RippleNode
  let client: RippleNode
  let serving: AgentPort<Stream>
  let asking: AgentPort<Stream>
  const agentOf = (node: RippleNode) => agentOfPeerB64(node.peerId)!

  beforeAll(async () => {
    server = await loopbackNode({ network, start: false })
    serving = libp2pAgentPort(server)
    await serving.handle('greet/1.0.0', async (stream, agent) => {
      const lp = lpStream(stream)
      await lp.write(bytes(`${text((await lp.read()).subarray())} from ${agent}`))
      await stream.close()
    })
    await serving.answer('who/1.0.0', async (request, agent) => bytes(`${text(request)}:${agent}`))
    await serving.answer('fail/1.0.0', async () => {
      throw new Error('no such op')
    })
    await server.start()
    client = await loopbackNode({ network, peers: server.multiaddrs().map(String) })
    asking = libp2pAgentPort(client)
    await waitFor('the connection', () => connectedTo(client, [server]) && connectedTo(server, [client]))
  })
  afterAll(async () => {
    await stopAll([client, server].filter(Boolean))
  })

  it('opens a stream to an agent, handled with the opener’s agent', async () => {
    const lp = lpStream(await asking.open(agentOf(server), 'greet/1.0.0'))
    await lp.write(bytes('hi'))
    expect(text((await lp.read()).subarray())).toBe(`hi from ${agentOf(client)}`)
  })

  it('asks an agent and is answered with the asker’s agent; a failed answer rejects here', async () => {
    expect(text(await asking.request(agentOf(server), 'who/1.0.0', bytes('q')))).toBe(`q:${agentOf(client)}`)
    await expect(asking.request(agentOf(server), 'fail/1.0.0', bytes('q'))).rejects.toBeInstanceOf(
      RemoteHandlerError,
    )
  })

  it('measures the round trip to an agent in whole ms', async () => {
    const rtt = await asking.rtt(agentOf(server))
    expect(Number.isInteger(rtt)).toBe(true)
    expect(rtt).toBeGreaterThanOrEqual(0)
    expect(rtt).toBeLessThan(5_000)
  })

  it('stops serving a protocol of either kind with one unhandle', async () => {
    // A protocol never asked on yet: request/response keeps streams already open to serve them.
    await serving.answer('once/1.0.0', async (request) => request)
    await serving.unhandle('once/1.0.0')
    await serving.unhandle('greet/1.0.0')
    await expect(asking.open(agentOf(server), 'greet/1.0.0')).rejects.toThrow()
    await expect(asking.request(agentOf(server), 'once/1.0.0', bytes('q'))).rejects.toThrow(/does not serve/)
  })
})
