/** `ripple up --network testnet` needs a bootstrap peer: without one it stops and says how to pass it. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runRipple } from './ripple-process.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ripple-testnet-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('ripple up on testnet', () => {
  it('without bootstrap peers stops with how to pass them', async () => {
    const res = await runRipple([
      'up',
      '--network',
      'testnet',
      '--data-dir',
      join(dir, 'peer'),
      '--api-port',
      '0',
    ])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^ripple: network "testnet" names no bootstrap peers/m)
    expect(res.stderr).toMatch(/--bootstrap <multiaddr>/)
  })

  it('refuses a --bootstrap that is not a multiaddr, naming it', async () => {
    const res = await runRipple(['up', '--network', 'testnet', '--bootstrap', 'relay.example.org:4001'])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toMatch(/not a multiaddr: relay\.example\.org:4001/)
  })
})
