/**
 * Two releases in one mesh at the hello: a peer that answers only hello/1 (as 0.1.0 does) is still
 * verified both ways and recorded as UNSTATED; a peer stating a newer release is recorded as it said
 * and named in the log once, with both versions and who should upgrade.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { agentOfPeerB64 } from '../../../host/identity/peer-agent.ts'
import { OWN_STATEMENT, UNSTATED } from '../../../host/interface/release.ts'
import type { RippleNode } from '../../../host/net/create-node.ts'
import { HELLO_PROTOCOL_SUFFIX, HELLO2_PROTOCOL_SUFFIX, sayHello } from '../../../host/net/handshake.ts'
import { loopbackNode, stopAll, testNetwork, waitFor } from './net-fixtures.ts'

const nodes: RippleNode[] = []
const bares: Libp2p[] = []
afterEach(async () => {
  await Promise.all(bares.splice(0).map((bare) => bare.stop()))
  await stopAll(nodes.splice(0))
})

const agent = (node: RippleNode) => agentOfPeerB64(node.peerId) as string

/** A bare libp2p node (no Ripple protocols), stopped after the test: it greets as a test says. */
async function bareNode(): Promise<Libp2p> {
  const bare = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  bares.push(bare)
  return bare
}

describe('hello/2 beside hello/1', () => {
  it('verifies a peer that speaks only hello/1 and records it as a release before 0.2.0', async () => {
    const network = testNetwork()
    const old = await loopbackNode({ network })
    // What 0.1.0 listens for: the first hello only.
    await old.libp2p.unhandle(old.identity.protocol(HELLO2_PROTOCOL_SUFFIX))
    nodes.push(old)
    const fresh = await loopbackNode({ network, peers: old.multiaddrs().map(String) })
    nodes.push(fresh)

    await waitFor(
      'both to verify the other',
      () => fresh.peers.has(old.peerId) && old.peers.has(fresh.peerId),
    )
    expect(fresh.versions.of(agent(old))).toEqual(UNSTATED)
    expect(fresh.versions.of(agent(fresh))).toEqual(OWN_STATEMENT)
    // Nothing newer than what 0.1.0 reads may be written while it is a member.
    expect(fresh.versions.everySpeaks('hello', 2)).toBe(false)
    expect(fresh.versions.everySpeaks('signals', 1)).toBe(true)
  })

  it('verifies a dialler that speaks only hello/1, as 0.1.0 dials', async () => {
    const network = testNetwork()
    const fresh = await loopbackNode({ network })
    nodes.push(fresh)
    // A bare libp2p node greeting as 0.1.0 does: one hello/1 stream, no hello/2 offered.
    const bare = await bareNode()
    const connection = await bare.dial(fresh.multiaddrs()[0]!)
    const stream = await connection.newStream(fresh.identity.protocol(HELLO_PROTOCOL_SUFFIX))
    await sayHello(stream, fresh.identity.id, { signal: AbortSignal.timeout(5_000) })
    await waitFor('the old dialler to be verified', () => fresh.peers.has(bare.peerId))
    expect(fresh.versions.of(agentOfPeerB64(bare.peerId) as string)).toEqual(UNSTATED)
  })

  it('logs a peer refused for a newer hello, naming both versions', async () => {
    const network = testNetwork()
    const lines: { msg: string; why?: string }[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const fresh = await loopbackNode({ network, logger })
    nodes.push(fresh)
    const bare = await bareNode()
    const connection = await bare.dial(fresh.multiaddrs()[0]!)
    const stream = await connection.newStream(fresh.identity.protocol(HELLO_PROTOCOL_SUFFIX))
    await lpStream(stream).write(Uint8Array.of(3, ...fresh.identity.id))
    await waitFor('the refusal', () => lines.length > 0)
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'refused a peer at the hello',
        why: `its hello is version 3, from a newer Ripple; this peer ${OWN_STATEMENT.release} speaks hello 1: upgrade this peer`,
      }),
    ])
    expect(fresh.peers.has(bare.peerId)).toBe(false)
  })

  it('records what a newer peer states, and both sides name the gap in their logs once', async () => {
    const network = testNetwork()
    const future = { release: '0.3.0', protocols: { ...OWN_STATEMENT.protocols, direct: 9 } }
    const warningsAhead: string[] = []
    const loggerAhead = pino(
      { level: 'warn' },
      { write: (line: string) => warningsAhead.push(JSON.parse(line).msg) },
    )
    const ahead = await loopbackNode({ network, statement: future, logger: loggerAhead })
    nodes.push(ahead)
    const warnings: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) })
    const here = await loopbackNode({ network, logger, peers: ahead.multiaddrs().map(String) })
    nodes.push(here)

    await waitFor('the hello', () => here.peers.has(ahead.peerId) && ahead.peers.has(here.peerId))
    expect(here.versions.of(agent(ahead))).toEqual(future)
    expect(ahead.versions.of(agent(here))).toEqual(OWN_STATEMENT)
    expect(here.versions.everySpeaks('hello', 2)).toBe(true)
    expect(here.versions.everySpeaks('direct', 9)).toBe(false)
    // A second connection's hello says the same: no second line.
    await here.libp2p.hangUp(ahead.peerId)
    await waitFor('the hang-up', () => !here.peers.has(ahead.peerId))
    await waitFor('the redial', () => here.peers.has(ahead.peerId), 15_000)
    expect(warnings.filter((w) => w.includes('0.3.0'))).toEqual([
      `peer ${agent(ahead)} runs Ripple 0.3.0 (direct 9), this peer ${OWN_STATEMENT.release} (direct ${OWN_STATEMENT.protocols.direct}): upgrade this peer`,
    ])
    // The newer peer says the same from its side: the older one should upgrade.
    expect(warningsAhead.filter((w) => w.includes('0.3.0'))).toEqual([
      `peer ${agent(here)} runs Ripple ${OWN_STATEMENT.release} (direct ${OWN_STATEMENT.protocols.direct}), this peer 0.3.0 (direct 9): upgrade ${agent(here)}`,
    ])
  })
})
