/**
 * Behind NATs that keep one public port per socket (nft `masquerade`), two peers that met through a
 * relay upgrade to a direct WebRTC connection: signalled over the relayed connection, ICE over UDP
 * with the public mappings the relay's STUN responder told them. Behind `masquerade random`
 * (nat-relay.test.ts) they stay relayed. Skipped, with the reason, without root, `ip` or `nft`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LabMesh } from './lab-mesh.ts'
import { natLabUnavailable } from './nat-lab.ts'

const unavailable = await natLabUnavailable()
if (unavailable !== null) console.log(`tests/net/direct-connection.test.ts skipped: ${unavailable}`)

let mesh: LabMesh

describe.skipIf(unavailable !== null)('peers behind port-preserving NATs', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    mesh = await LabMesh.start({ homes: 2, nat: 'port-preserving' })
    await Promise.all([mesh.startPeer(1, false), mesh.startPeer(2, true)])
  }, 240_000)

  afterAll(() => mesh?.stop())

  it('upgrade to a direct connection, and run a task over it', async () => {
    const [home1, home2] = mesh.peers
    const seen = await mesh.waitForPeer(
      home1!,
      home2!,
      (p) => p.status === 'online' && p.link?.path === 'direct',
    )
    expect(seen.link?.via).toBeNull()
    console.log(seen.link)
    const text = await mesh.cli(home1!, ['peers'])
    expect(text.stdout).toMatch(/home2\s+online\s+direct/)
    const udpBefore = await mesh.lab.udpToPeers(1)
    // Long enough for the runner to say it started: a signal, a request from home2 that home1 answers.
    const res = await mesh.cli(home1!, [
      'task',
      'submit',
      'echo',
      '--input',
      '{"message":"direct","delay_ms":300}',
      '--tag',
      'home2',
      '--wait',
    ])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toEqual({ message: 'direct' })
    // Requests between them take the direct connection: more UDP went from home to home meanwhile.
    expect(await mesh.lab.udpToPeers(1)).toBeGreaterThan(udpBefore)
  })
})
