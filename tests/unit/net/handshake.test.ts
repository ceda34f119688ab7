import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { answerHello, NetworkMismatchError, sayHello } from '../../../host/net/handshake.ts'
import { networkIdentity } from '../../../host/net/network-identity.ts'

const ours = networkIdentity({ name: 'local', seed: 'a' }).id
const theirs = networkIdentity({ name: 'local', seed: 'b' }).id
const options = () => ({ signal: AbortSignal.timeout(2_000) })

describe('hello handshake', () => {
  it('passes when both sides are on the same network', async () => {
    const [dialler, listener] = await streamPair()
    await Promise.all([sayHello(dialler, ours, options()), answerHello(listener, ours, options())])
  })

  it('fails on both sides when a peer speaks our protocol with another network id', async () => {
    const [dialler, listener] = await streamPair()
    const [said, answered] = await Promise.allSettled([
      sayHello(dialler, theirs, options()),
      answerHello(listener, ours, options()),
    ])
    expect(answered.status === 'rejected' && answered.reason).toBeInstanceOf(NetworkMismatchError)
    // The impostor gets a reset instead of our id.
    expect(said.status).toBe('rejected')
  })
})
