/**
 * `ripple up`: starts this machine's peer and keeps it running until SIGINT/SIGTERM.
 * Prints the agent key, what the machine offers, the API URL and a one-time login link (never the
 * token: `ripple token` prints that for scripts), then `ripple: ready in N ms`
 * (tests and the startup benchmark wait for that line).
 */

import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { text } from 'node:stream/consumers'
import { Command, InvalidArgumentError, Option } from 'commander'
import { MCP_PATH } from '../../api/mcp/mcp-http.ts'
import { progenitorOf } from '../../config/network-config.ts'
import type { RunningDaemon } from '../../daemon/daemon.ts'
import { parseKeepAlive } from '../../inference/keep-alive.ts'
import { OWN_STATEMENT } from '../../interface/release.ts'
import { statementText } from '../../interface/version-gap.ts'
import { type IpfsChoice, parseIpfsChoice } from '../../ipfs/ipfs-choice.ts'
import {
  createLogger,
  defaultLogFormat,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from '../../log/logger.ts'
import {
  collectMultiaddr,
  collectTag,
  parseByteSize,
  parseDurationMs,
  parseIntegerIn,
  parseName,
  parsePort,
} from '../cli-options.ts'
import { alignRows, capabilityRows, engineLine } from '../human-format.ts'
import { stopOnSignals } from './stop-on-signals.ts'

export const DEFAULT_API_PORT = 7311
/** An invite's text may come in this environment variable (for services and containers). */
export const INVITE_ENV = 'RIPPLE_INVITE'
/** One slot for the owner's own request, one for a member holding none (README "Sharing fairly"). */
const DEFAULT_HELD_BACK = 2

interface UpOptions {
  network: string
  dataDir?: string
  ephemeral?: boolean
  name?: string
  tag?: string[]
  modelsDir?: string
  contextSize?: number
  threads?: number
  parallel?: number
  heldBack: number
  modelMemory?: number
  keepAlive?: number
  rpcCacheSize?: number
  apiPort: number
  apiHost: string
  requireKeys?: boolean
  giveToGet?: boolean
  recordSlot?: number
  /** Given without a value: true (public addresses). */
  allowImageUrls?: true | 'public' | 'local'
  peer?: string[]
  bootstrap?: string[]
  listen?: string[]
  mdnsInterface?: string
  open?: boolean
  joinFile?: string
  adminPort?: number
  adminOrigins?: string
  ipfs: IpfsChoice
  ipfsMaxSize?: number
  memoryMaxSize?: number
  logLevel: LogLevel
  logFormat?: LogFormat
}

export function upCommand(): Command {
  return new Command('up')
    .description('start this machine as a peer of a network and serve the local API')
    .option('--network <name|path>', 'network name (networks/<name>.json) or path to a network file', 'local')
    .option(
      '--data-dir <dir>',
      'where the agent key, the mesh and the data live (default: $RIPPLE_HOME/<network>, ~/.ripple/<network>)',
    )
    .addOption(
      new Option(
        '--ephemeral',
        'run in a throwaway session dir, removed on exit (mesh and key included)',
      ).conflicts('dataDir'),
    )
    .option('--name <name>', 'name this peer advertises (default: the host name)', parseName)
    .option('--tag <tag>', 'tag this peer advertises (repeatable)', collectTag)
    .option('--models-dir <dir>', 'directory of GGUF models to advertise (default: <data dir>/models)')
    .option(
      '--context-size <tokens>',
      'tokens per inference context, capped by each model (default 4096)',
      parseIntegerIn(64, 1 << 20),
    )
    .option(
      '--threads <n>',
      'inference threads (default: the cores of this machine)',
      parseIntegerIn(1, 1024),
    )
    .option(
      '--model-memory <size>',
      'the most memory models may take here, e.g. 16GiB (splits plan with it; default: all that is free)',
      parseByteSize,
    )
    .option(
      '--keep-alive <duration>',
      'how long a model stays loaded once idle, e.g. 10m or 30s; 0 unloads it right after each request, -1 never (default 5m); the most a request may ask',
      parseKeepAliveOption,
    )
    .option(
      '--rpc-cache-size <size>',
      "the most the split worker's tensor cache may hold, e.g. 50GiB (least recently used tensors go first; default a quarter of the free disk)",
      parseByteSize,
    )
    .option(
      '--parallel <n>',
      'requests each loaded model serves at once for one member, batched (default: 1-4, from its size and the free memory)',
      parseIntegerIn(1, 256),
    )
    .option(
      '--held-back <n>',
      'slots each model runs beyond --parallel, kept for your own requests and members holding none, so a swarm never makes them wait (0: none)',
      parseIntegerIn(0, 16),
      DEFAULT_HELD_BACK,
    )
    .option('--api-port <port>', 'API port on 127.0.0.1; 0 picks a free one', parsePort, DEFAULT_API_PORT)
    .option(
      '--api-host <ip>',
      'address the API listens on; beyond loopback it needs --require-keys',
      '127.0.0.1',
    )
    .option(
      '--record-slot <duration>',
      'how often this peer signs its record of the requests it sent, whether it sent any or not, so no one can tell whom it asked (default: the network file’s record.served_slot_ms, else 1m)',
      parseRecordSlot,
    )
    .option(
      '--give-to-get',
      'members who served this machine more (as both signed it, last day) take more turns at its slots, up to 4 to 1',
    )
    .option(
      '--require-keys',
      'callers from other machines need an API key (`ripple keys create`) and reach only /v1 and /mcp',
    )
    .addOption(
      new Option(
        '--allow-image-urls [reach]',
        'fetch the http(s) image URLs of /v1 requests, from public addresses (or `local`: loopback, LAN and link-local ones too); default: images only as data URLs, so a request cannot make this peer fetch an address',
      ).choices(['public', 'local']),
    )
    .option('--peer <multiaddr>', 'a peer to dial and keep connected (repeatable)', collectMultiaddr)
    .option(
      '--bootstrap <multiaddr>',
      "a bootstrap peer, e.g. a `ripple relay` (repeatable; added to the network file's)",
      collectMultiaddr,
    )
    .option(
      '--listen <multiaddr>',
      "libp2p listen address (repeatable; default: the network file's)",
      collectMultiaddr,
    )
    .option(
      '--admin-port <port>',
      "serve Holochain's admin WebSocket API on this 127.0.0.1 port (0 picks a free one)",
      parsePort,
    )
    .option(
      '--admin-origins <origins>',
      'allowed Origin headers of the admin interface, comma-separated, or * (default: ripple-host)',
    )
    .option(
      '--mdns-interface <ip>',
      'send and hear mDNS on this interface only, e.g. 127.0.0.1 (default: all)',
    )
    .option(
      '--ipfs <helia|kubo[:url]>',
      'IPFS for artifacts: embedded Helia on this peer, or a Kubo daemon (default URL http://127.0.0.1:5001)',
      parseIpfsOption,
      { kind: 'helia' },
    )
    .option(
      '--ipfs-max-size <size>',
      'most bytes of artifacts this peer keeps, e.g. 20GiB (default: no limit); pins past it are refused',
      parseByteSize,
    )
    .option(
      '--memory-max-size <size>',
      'most bytes the shared memory may use here, e.g. 8GiB; 0 holds no shards (default: a quarter of RAM)',
      parseByteSize,
    )
    .option(
      '--open',
      'local: join the shared open network (no key, no admin: for demos) instead of a private mesh',
    )
    .option(
      '--join-file <file>',
      `join a private mesh with an invite file from \`ripple invite create\` (- reads standard input; or set ${INVITE_ENV})`,
    )
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('info'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines: pretty (default on a terminal) or json (otherwise)',
      ).choices(LOG_FORMATS),
    )
    .action(async (options: UpOptions) => {
      const logger = createLogger(options.logLevel, options.logFormat ?? defaultLogFormat())
      // Loaded here so `status` and `peers` do not pay for the conductor, API server and hardware probe.
      const { startDaemon } = await import('../../daemon/daemon.ts')
      const startup = new AbortController()
      const starting = startDaemon({
        network: options.network,
        dataDir: options.dataDir,
        ephemeral: options.ephemeral === true,
        name: options.name,
        tags: options.tag ?? [],
        modelsDir: options.modelsDir,
        contextSize: options.contextSize,
        threads: options.threads,
        slots: options.parallel,
        heldBackSlots: options.heldBack,
        modelMemoryBytes: options.modelMemory,
        keepAliveMs: options.keepAlive,
        rpcCacheBytes: options.rpcCacheSize,
        apiPort: options.apiPort,
        apiHost: options.apiHost,
        requireKeys: options.requireKeys === true,
        giveToGet: options.giveToGet === true,
        servedSlotMs: options.recordSlot,
        allowImageUrls:
          options.allowImageUrls === undefined
            ? false
            : options.allowImageUrls === 'local'
              ? 'local'
              : 'public',
        peers: options.peer ?? [],
        bootstrap: options.bootstrap ?? [],
        listen: options.listen,
        mdnsInterface: options.mdnsInterface,
        open: options.open,
        inviteText: await readInvite(options.joinFile),
        adminPort: options.adminPort,
        adminOrigins: options.adminOrigins,
        ipfs: options.ipfs,
        ipfsMaxBytes: options.ipfsMaxSize,
        memoryMaxBytes: options.memoryMaxSize,
        onProgress: (line) => process.stdout.write(`ripple: ${line}\n`),
        signal: startup.signal,
        logger,
      })
      // Installed before the daemon is up, so a signal during startup still stops it cleanly (a wait
      // for an invite's witness ends there).
      stopOnSignals(async () => {
        startup.abort(new Error('stopped while starting'))
        await (await starting).stop()
      })
      // The CLI finds a daemon on its own; only a --data-dir given here needs repeating to it.
      const dataDirFlag = options.dataDir === undefined ? '' : ` --data-dir ${(await starting).dataDir.path}`
      process.stdout.write(startupText(await starting, dataDirFlag))
    })
}

function parseIpfsOption(text: string): IpfsChoice {
  return asArgumentError(() => parseIpfsChoice(text))
}

function parseRecordSlot(text: string): number {
  const ms = parseDurationMs(text)
  if (ms < 100 || ms > 3_600_000) throw new InvalidArgumentError('must be from 100ms to 1h')
  return ms
}

function parseKeepAliveOption(text: string): number {
  return asArgumentError(() => parseKeepAlive(text))
}

/** A parser's error as commander reports a bad option value. */
function asArgumentError<T>(parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** The bundle's modules are all `dist/*.mjs`; a `.ts` URL means tsx runs the sources (slower to start). */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

function startupText(daemon: RunningDaemon, dataDirFlag: string): string {
  const unusable = daemon.unusableModels().length
  const session = daemon.dataDir.session ? ' (ephemeral: removed on exit)' : ''
  const rows: [string, string][] = [
    ['release', statementText(OWN_STATEMENT)],
    ...capabilityRows(daemon.capability()),
    ['models dir', `${daemon.modelsDir}${unusable > 0 ? ` (${unusable} unusable, see the log)` : ''}`],
    ['engine', engineLine(daemon.models.backends.status())],
  ]
  return `${[
    `ripple: agent ${daemon.agent}`,
    `ripple: network ${daemon.network.name} (${daemon.network.backend}), data dir ${daemon.dataDir.path}${session}`,
    alignRows(rows, '  '),
    ...daemon.multiaddrs().map((ma) => `ripple: listening ${ma}`),
    joinHint(daemon, dataDirFlag),
    `ripple: api ${daemon.apiUrl}`,
    ...(daemon.adminUrl ? [`ripple: holochain admin ${daemon.adminUrl}`] : []),
    `ripple: OpenAI-compatible endpoint ${daemon.apiUrl}/v1 (with the API token, or a key from \`ripple keys create\`)`,
    `ripple: open ${daemon.loginUrl()} (one-time link; \`ripple token\` prints the API token for scripts)`,
    `ripple: mcp ${daemon.apiUrl}${MCP_PATH} (or \`ripple mcp\` over stdio)`,
    `ripple: try \`ripple status${dataDirFlag}\` or \`ripple peers${dataDirFlag}\``,
    // performance.now() counts from process start, so this includes loading the code.
    `ripple: ready in ${Math.round(performance.now())} ms${FROM_SOURCE ? ' (from the TypeScript sources: `npm run build:host` bundles them)' : ''}`,
  ].join('\n')}\n`
}

/** The invite's text: from the file, standard input (`-`), or the environment; never a command-line value. */
async function readInvite(joinFile: string | undefined): Promise<string | undefined> {
  if (joinFile === '-') return text(process.stdin)
  if (joinFile !== undefined) {
    return readFile(joinFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(`cannot read the invite ${joinFile}: ${err.code ?? err.message}`)
    })
  }
  return process.env[INVITE_ENV]
}

/** How another machine joins this peer's network. */
function joinHint(daemon: RunningDaemon, dataDirFlag: string): string {
  if (daemon.mesh === 'open' || daemon.mesh === 'file') {
    return 'ripple: join from another machine with `ripple up --peer <one of the addresses above>`'
  }
  return daemon.agent === progenitorOf(daemon.network)
    ? `ripple: private mesh ${daemon.mesh}; this peer is its admin: invite a machine with ` +
        `\`ripple invite create${dataDirFlag}\`, then \`ripple up --join-file <invite>\` there`
    : `ripple: private mesh ${daemon.mesh}; ask its admin for invites`
}
