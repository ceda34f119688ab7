/**
 * A network file (`networks/<name>.json`): loading one, its admin, and its bootstrap peers. Its shape
 * is `network-schema.ts`.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { repoPath } from '../runtime/repo-root.ts'
import { type NetworkConfig, NetworkConfigSchema } from './network-schema.ts'

/** The network's admin key: the progenitor named in its policy_store properties, or null (nobody). */
export function progenitorOf(network: NetworkConfig): string | null {
  const progenitor = network.dna_properties.policy_store?.progenitor
  return typeof progenitor === 'string' ? progenitor : null
}

/** Thrown when a network file is missing or does not match the schema. */
export class InvalidNetworkConfigError extends Error {
  static override readonly name = 'InvalidNetworkConfigError'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidNetworkConfigError'
  }
}

/** Loads a network by name (`networks/<name>.json`) or by path to a JSON file. */
export async function loadNetworkConfig(nameOrPath: string): Promise<NetworkConfig> {
  const path = /[/\\]|\.json$/.test(nameOrPath)
    ? resolve(nameOrPath)
    : repoPath('networks', `${nameOrPath}.json`)
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch {
    throw new InvalidNetworkConfigError(`network "${nameOrPath}" not found (looked for ${path})`)
  }
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch (err) {
    throw new InvalidNetworkConfigError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  const parsed = NetworkConfigSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new InvalidNetworkConfigError(`${path}: ${issues}`)
  }
  return parsed.data
}

/** Thrown when a network without LAN discovery has no peer to start from. */
export class NoBootstrapPeersError extends Error {
  static override readonly name = 'NoBootstrapPeersError'
  constructor(network: string) {
    super(
      `network "${network}" names no bootstrap peers, and it has no LAN discovery to find any: ` +
        'pass one or more with `--bootstrap <multiaddr>` (the address a `ripple relay` prints, ' +
        'ending in /p2p/<peer id>), or use a network file of your own with "libp2p.bootstrap" set ' +
        '(`--network path/to/network.json`)',
    )
    this.name = 'NoBootstrapPeersError'
  }
}

/**
 * The network with `extra` bootstrap multiaddrs added; throws NoBootstrapPeersError when an embedded
 * network without mDNS would then have none (`peers` are dialled too, so they count).
 */
export function withBootstrap(
  network: NetworkConfig,
  extra: readonly string[],
  peers: readonly string[] = [],
): NetworkConfig {
  // A Holochain-backed network finds its peers through its own bootstrap service.
  if (network.backend !== 'embedded' || network.libp2p === undefined) return network
  const bootstrap = [...new Set([...network.libp2p.bootstrap, ...extra])]
  if (!network.libp2p.mdns && bootstrap.length === 0 && peers.length === 0)
    throw new NoBootstrapPeersError(network.name)
  return { ...network, libp2p: { ...network.libp2p, bootstrap } }
}
