/**
 * An agent's peer id is its agent key: the peer id of the key made from an agent's seed is the one
 * `peerIdOfAgent` names, and back; a peer with another kind of key is no agent.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { encodeHashB64 } from '../../../host/identity/hash.ts'
import { openAgentKey } from '../../../host/identity/keystore.ts'
import { agentOfPeer, agentOfPeerB64, peerIdOfAgent } from '../../../host/identity/peer-agent.ts'
import { peerKeyFromSeed } from '../../../host/net/peer-key.ts'
import { tempDir } from '../conductor/fixtures/test-cell.ts'

describe('peer ids and agents', () => {
  it("names the peer id of the agent's own key, and the agent of that peer", async () => {
    const key = await openAgentKey(await tempDir())
    const agent = encodeHashB64(key.agentPubKey)
    const peer = peerIdFromPrivateKey(await peerKeyFromSeed(key.exportSeed()))
    expect(peerIdOfAgent(agent).equals(peer)).toBe(true)
    expect(agentOfPeerB64(peer)).toBe(agent)
    expect(agentOfPeer(peer)).toEqual(key.agentPubKey)
  })

  it('finds no agent behind a peer whose key is not Ed25519', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    expect(agentOfPeer(peer)).toBeNull()
    expect(agentOfPeerB64(peer)).toBeNull()
  })
})
