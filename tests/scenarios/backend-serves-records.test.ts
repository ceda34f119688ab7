/**
 * The daemon's embedded backend (startBackend, as `ripple up` starts it) serves `record/1.0.0`: two
 * backends in this process on loopback, and a read through one's `records` of a record nobody holds is
 * answered by the other as "does not hold it" (a peer that did not serve the protocol would fail the ask).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RecordNotFoundError } from '../../host/conductor/embedded/replication/errors.ts'
import { encodeCanonical } from '../../host/identity/canonical.ts'
import { encodeHashB64, hashContent } from '../../host/identity/hash.ts'
import { silentLogger } from '../../host/log/logger.ts'
import { type NetworkBackend, startBackend } from '../../host/node/network-backend.ts'
import { eventually } from '../unit/net/memory-fixtures.ts'
import { LOOPBACK_LISTEN, scenarioNetwork } from './harness.ts'

describe("the daemon's backend", { timeout: 120_000 }, () => {
  it('serves record/1.0.0 and reads through its holders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ripple-backend-records-'))
    const network = scenarioNetwork()
    const backends: NetworkBackend[] = []
    try {
      for (const name of ['a', 'b'])
        backends.push(
          await startBackend({
            dataDir: join(root, name),
            network,
            listen: LOOPBACK_LISTEN,
            mdnsInterface: '127.0.0.1',
            logger: silentLogger(),
          }),
        )
      const [a, b] = backends as [NetworkBackend, NetworkBackend]
      const bAgent = b.conductor.agentPubKey
      await eventually(
        'a counts b a member',
        async () => a.isMember(bAgent),
        (member) => member,
        60_000,
      )
      const nowhere = encodeHashB64(hashContent(encodeCanonical({ never: 'written' }), 'action'))
      const error = await a.records!.read('agent_registry', nowhere).then(
        () => expect.unreachable(),
        (err: unknown) => err as RecordNotFoundError,
      )
      expect(error).toBeInstanceOf(RecordNotFoundError)
      expect(error.tries.map((t) => [t.holder, t.outcome])).toEqual([[bAgent, 'lacks']])
    } finally {
      for (const backend of backends) await backend.stop()
      await rm(root, { recursive: true, force: true })
    }
  })
})
