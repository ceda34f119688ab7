import { lpStream, streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { RELEASE } from '../../../host/interface/release.ts'
import {
  answerHello,
  answerHello2,
  MalformedHelloError,
  NetworkMismatchError,
  sayHello,
  sayHello2,
} from '../../../host/net/handshake.ts'
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

describe('hello/2 handshake', () => {
  const mine = { release: '0.2.0', protocols: { hello: 2, direct: 1 } }
  const future = { release: '0.9.0', protocols: { hello: 3, direct: 4, teleport: 1 } }

  it("gives each side the other's release statement, keeping protocols it does not know", async () => {
    const [dialler, listener] = await streamPair()
    const [heard, answered] = await Promise.all([
      sayHello2(dialler, ours, mine, options()),
      answerHello2(listener, ours, future, options()),
    ])
    expect(heard).toEqual(future)
    expect(answered).toEqual(mine)
  })

  it('fails on both sides for another network id', async () => {
    const [dialler, listener] = await streamPair()
    const [said, answered] = await Promise.allSettled([
      sayHello2(dialler, theirs, mine, options()),
      answerHello2(listener, ours, mine, options()),
    ])
    expect(answered.status === 'rejected' && answered.reason).toBeInstanceOf(NetworkMismatchError)
    expect(said.status).toBe('rejected')
  })

  it('names a frame of a newer hello as newer', async () => {
    const [dialler, listener] = await streamPair()
    const lp = lpStream(dialler)
    const answered = answerHello2(listener, ours, mine, options())
    await lp.write(Uint8Array.of(3, ...ours))
    await expect(answered).rejects.toThrow(
      `its hello is version 3, from a newer Ripple; this peer ${RELEASE} speaks hello 2: upgrade this peer`,
    )
  })

  it('refuses a statement it cannot read, saying so', async () => {
    const [dialler, listener] = await streamPair()
    const bad = { release: '', protocols: { hello: -1 } }
    const [, answered] = await Promise.allSettled([
      sayHello2(dialler, ours, bad, options()),
      answerHello2(listener, ours, mine, options()),
    ])
    expect(answered.status === 'rejected' && answered.reason).toBeInstanceOf(MalformedHelloError)
    expect(answered.status === 'rejected' && answered.reason.message).toMatch(
      /release statement is malformed/,
    )
  })
})
