/**
 * `ripple relay`: runs a relay and bootstrap node for one or more networks (no models, no chain). Its
 * key lives in its data dir, so the addresses it prints stay valid across restarts: put them in the
 * networks' files (`libp2p.bootstrap`) or give them to peers as `--bootstrap`.
 */
import { performance } from 'node:perf_hooks'
import { Command, Option } from 'commander'
import { loadNetworkConfig } from '../../config/network-config.ts'
import { prepareDataDir } from '../../daemon/data-dir.ts'
import { openAgentKey } from '../../identity/keystore.ts'
import { peerKeyFromSeed } from '../../net/peer-key.ts'
import { DEFAULT_RELAY_LIMITS } from '../../relay/relay-node.ts'
import { DEFAULT_STUN_PORT } from '../../relay/stun-responder.ts'
import { collectMultiaddr, parseByteSize, parseDurationMs, parseIntegerIn } from '../cli-options.ts'
import { formatBytes, formatDuration } from '../human-format.ts'
import { stopOnSignals } from './stop-on-signals.ts'

interface RelayOptions {
  network?: string[]
  listen?: string[]
  announce?: string[]
  dataDir?: string
  maxReservations: number
  dataLimit: number
  durationLimit: number
  stunPort: number
  stun: boolean
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function relayCommand(): Command {
  return new Command('relay')
    .description('run a relay and bootstrap node for peers behind NAT (no models needed)')
    .option('--network <name|path>', 'a network to serve (repeatable; default: testnet)', collect)
    .option(
      '--listen <multiaddr>',
      'listen address (repeatable; default /ip4/0.0.0.0/tcp/4001)',
      collectMultiaddr,
    )
    .option(
      '--announce <multiaddr>',
      'public address to advertise, e.g. behind a port forward (repeatable)',
      collectMultiaddr,
    )
    .option('--data-dir <dir>', "where the relay's key lives (default ~/.ripple/relay)")
    .option(
      '--max-reservations <n>',
      'peers that may hold a slot at once',
      parseIntegerIn(1, 100_000),
      DEFAULT_RELAY_LIMITS.maxReservations,
    )
    .addOption(
      new Option(
        '--data-limit <size>',
        'bytes one relayed connection may carry before it is closed (and redialled by its peers), e.g. 256MiB',
      )
        .argParser(parseByteSize)
        .default(DEFAULT_RELAY_LIMITS.dataLimitBytes, formatBytes(DEFAULT_RELAY_LIMITS.dataLimitBytes)),
    )
    .addOption(
      new Option('--duration-limit <duration>', 'how long one relayed connection may last, e.g. 30m')
        .argParser(parseDurationMs)
        .default(DEFAULT_RELAY_LIMITS.durationLimitMs, formatDuration(DEFAULT_RELAY_LIMITS.durationLimitMs)),
    )
    .option(
      '--stun-port <port>',
      'UDP port of the STUN responder peers use to learn their public mapping',
      parseIntegerIn(1, 65535),
      DEFAULT_STUN_PORT,
    )
    .option('--no-stun', 'no STUN responder (peers then stay on relayed connections)')
    .action(async (options: RelayOptions) => {
      const { startRelayNode } = await import('../../relay/relay-node.ts')
      const networks = await Promise.all((options.network ?? ['testnet']).map((n) => loadNetworkConfig(n)))
      const dataDir = await prepareDataDir('relay', options.dataDir)
      const key = await openAgentKey(dataDir.path)
      const relay = await startRelayNode({
        privateKey: await peerKeyFromSeed(key.exportSeed()),
        listen: options.listen ?? ['/ip4/0.0.0.0/tcp/4001'],
        announce: options.announce,
        networks,
        limits: {
          maxReservations: options.maxReservations,
          dataLimitBytes: options.dataLimit,
          durationLimitMs: options.durationLimit,
        },
        stunPort: options.stun ? options.stunPort : null,
      })
      stopOnSignals(() => relay.stop())
      const { limits } = relay
      process.stdout.write(
        `${[
          `ripple: relay ${relay.libp2p.peerId}, data dir ${dataDir.path}`,
          `ripple: serving ${networks.map((n) => n.name).join(', ')}`,
          ...(options.stun ? [`ripple: STUN on udp port ${options.stunPort}`] : []),
          `ripple: limits ${limits.maxReservations} reservations, ${limits.dataLimitBytes} bytes and ${limits.durationLimitMs} ms per relayed connection`,
          ...relay.multiaddrs().map((ma) => `ripple: listening ${ma}`),
          'ripple: peers join with `ripple up --network <network> --bootstrap <one of the addresses above>`',
          `ripple: ready in ${Math.round(performance.now())} ms`,
        ].join('\n')}\n`,
      )
    })
}
