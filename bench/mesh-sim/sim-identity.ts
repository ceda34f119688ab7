/**
 * A simulated peer's identity and what it says of itself: an Ed25519 agent key (its seed also its libp2p
 * key, as the daemon derives both), and a capability that passes the contract's schema.
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { holoHashFrom32 } from '../../host/identity/hash.ts'
import type { AgentKey } from '../../host/identity/keystore.ts'
import type { NodeCapability } from '../../zomes-bindings/index.ts'

export function agentKey(): { key: AgentKey; seed: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'))
  const seed = new Uint8Array(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'))
  const key: AgentKey = {
    agentPubKey: holoHashFrom32(raw, 'agent'),
    sign: (bytes) => new Uint8Array(sign(null, bytes, privateKey)),
    exportSeed: () => seed,
  }
  return { key, seed }
}

/** A capability that passes the contract's schema: a machine with `models` loaded. */
export function capabilityOf(name: string, models: readonly string[]): NodeCapability {
  return {
    name,
    hardware: {
      cpu: { model: 'sim', cores: 8, threads: 16, arch: 'x64', speed_ghz: 3 },
      ram_bytes: 64 * 1024 ** 3,
      gpus: [],
      disk_free_bytes: 1024 ** 4,
      os: { platform: 'linux', distro: 'sim', release: '1', kernel: '6' },
    },
    inference: {
      models: models.map((model) => ({
        name: model,
        file_hash: '0'.repeat(64),
        size_bytes: 1024 ** 3,
        parameters: null,
        quantisation: null,
        context_length: null,
        architecture: null,
        loaded: true,
      })),
      tokens_per_second: null,
    },
    storage: { ipfs_free_bytes: 0, pinned_bytes: 0 },
    memory: { shards_held: 0, capacity_bytes: 0 },
    tags: [],
    host_version: '0.2.0',
  }
}
