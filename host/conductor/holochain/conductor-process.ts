/**
 * Starts a Holochain 0.6 conductor for the holochain backend when the network file names no running
 * one: `lair-keystore` (its passphrase a 0600 file in the data dir, never an argument) and `holochain
 * --piped` with a conductor config written from the network file, then waits for `###ADMIN_PORT:n###`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { NetworkConfig } from '../../config/network-schema.ts'
import type { Logger } from '../../log/logger.ts'
import { pathExists } from '../../storage/path-exists.ts'
import { RIPPLE_HOST_ORIGIN } from '../ripple-app.ts'
import { recordPid, stopLeftover } from './leftover-process.ts'
import { encodeSeedBundle } from './seed-bundle.ts'
import { BUILD_TOOLS_COMMAND, builtToolsDir, findHolochainTool, pinnedVersions } from './tools.ts'

const READY_TIMEOUT_MS = 60_000
/** How often, at most, the conductor asks the bootstrap server for its peers' addresses (per DNA). */
export const BOOTSTRAP_POLL_MAX_MS = 10_000
/** Holochain's timeout for a request to another peer (a get, a get_links). */
export const NETWORK_REQUEST_TIMEOUT_S = 15

/** Thrown when the holochain backend must start a conductor and its binaries are neither built nor on PATH. */
export class HolochainNotInstalledError extends Error {
  static override readonly name = 'HolochainNotInstalledError'
  constructor(
    readonly network: string,
    readonly missing: string[],
  ) {
    super(
      `network "${network}" uses the holochain backend, which needs ${missing.join(' and ')} ` +
        `(Holochain ${pinnedVersions().HOLOCHAIN_VERSION}), neither built in ${builtToolsDir()} nor on PATH: ` +
        `build them with \`${BUILD_TOOLS_COMMAND}\` (from crates.io, once per machine; a build of hours on two cores), ` +
        'or enter the Holochain shell with `nix develop` in this repository (flake.nix, holonix main-0.6); ' +
        "or set holochain.admin_url in the network file to a running conductor's admin interface; " +
        'or use an embedded network such as "local"',
    )
    this.name = 'HolochainNotInstalledError'
  }
}

/** Thrown when `holochain` or `lair-keystore` exits or stays silent instead of getting ready. */
export class ConductorStartError extends Error {
  static override readonly name = 'ConductorStartError'
  constructor(what: string, detail: string) {
    super(`${what} did not start: ${detail}`)
    this.name = 'ConductorStartError'
  }
}

export interface ConductorConfigInit {
  dataRoot: string
  lairUrl: string
  network: NetworkConfig
}

/** The conductor config (YAML; JSON is YAML) for Holochain 0.6's `holochain -c`. */
export function conductorConfig(init: ConductorConfigInit): string {
  const hc = init.network.holochain
  const network: Record<string, unknown> = { target_arc_factor: 1 }
  if (hc?.bootstrap_url) network.bootstrap_url = hc.bootstrap_url
  if (hc?.signal_url) network.signal_url = hc.signal_url
  if (hc?.relay_url) network.relay_url = hc.relay_url
  // A peer that (re)starts has a new transport address, and the first connection it opens carries the
  // agent infos of only the cells joined so far: until its peers poll the bootstrap server they drop what
  // it sends in the other DNAs, its gets included (kitsune2 0.3's access check). They poll every
  // BOOTSTRAP_POLL_MAX_MS rather than kitsune2's 5 minutes.
  const advanced: Record<string, unknown> = { coreBootstrap: { backoffMaxMs: BOOTSTRAP_POLL_MAX_MS } }
  // Holochain 0.6.0's WebRTC transport refuses a plain ws:// signal server (a local kitsune2-bootstrap-srv,
  // as tryorama runs) unless told; 0.6.1+ ignore the key.
  if (hc?.signal_url?.startsWith('ws://')) advanced.tx5Transport = { signalAllowPlainText: true }
  network.advanced = advanced
  const config = {
    data_root_path: init.dataRoot,
    keystore: { type: 'lair_server', connection_url: init.lairUrl },
    admin_interfaces: [{ driver: { type: 'websocket', port: 0, allowed_origins: RIPPLE_HOST_ORIGIN } }],
    // A get no peer answers fails after this (Holochain's default: 60 s) and the host asks again
    // (./holochain-conductor.ts), so a get sent before the peers know this one does not hold a zome call a minute.
    request_timeout_s: NETWORK_REQUEST_TIMEOUT_S,
    network,
  }
  return `${JSON.stringify(config, null, 2)}\n`
}

export interface ConductorProcess {
  adminUrl: string
  /** The `holochain` process (its RSS and CPU are the backend's cost). */
  pid: number
  stop(): Promise<void>
}

/**
 * Starts lair and the conductor. `agentSeed` (the Ripple agent's Ed25519 seed), when given, is
 * imported into lair once, before its server starts, so the app can be installed under that key.
 */
export async function startConductorProcess(
  dataDir: string,
  network: NetworkConfig,
  logger: Logger,
  agentSeed?: Uint8Array,
): Promise<ConductorProcess> {
  const holochain = findHolochainTool('holochain')
  const lair = findHolochainTool('lair-keystore')
  const missing = [holochain ? null : 'holochain', lair ? null : 'lair-keystore'].filter((m) => m !== null)
  if (holochain === null || lair === null) throw new HolochainNotInstalledError(network.name, missing)

  const root = join(dataDir, 'holochain')
  const lairRoot = join(root, 'lair')
  // lair-keystore 0.6.3's `init` wants its root to exist (it answers `{"error":"NotFound"}` otherwise).
  await mkdir(lairRoot, { recursive: true, mode: 0o700 })
  const configPath = join(root, 'conductor-config.yaml')
  const pids = { conductor: join(root, 'conductor.pid'), lair: join(root, 'lair.pid') }
  for (const [pidFile, marker] of [
    [pids.conductor, configPath],
    [pids.lair, lairRoot],
  ] as const) {
    if (await stopLeftover(pidFile, marker))
      logger.warn({ pidFile }, 'stopped a holochain process left running by an earlier daemon')
  }
  const passphrase = await loadOrCreatePassphrase(join(root, 'lair-passphrase'))
  if (!(await pathExists(join(lairRoot, 'lair-keystore-config.yaml'))))
    await pipedRun(lair, ['--lair-root', lairRoot, 'init', '--piped'], passphrase)
  if (agentSeed) await importAgentSeed(lair, lairRoot, passphrase, agentSeed)
  const { stdout: lairUrl } = await promisify(execFile)(lair, ['--lair-root', lairRoot, 'url'])
  const lairServer = spawn(lair, ['--lair-root', lairRoot, 'server', '--piped'], { stdio: 'pipe' })
  lairServer.stdin.end(`${passphrase}\n`)
  if (lairServer.pid !== undefined) await recordPid(pids.lair, lairServer.pid)
  await waitForLine(lairServer, 'lair-keystore', /lair-keystore running/, join(root, 'lair.log'))

  await writeFile(
    configPath,
    conductorConfig({ dataRoot: join(root, 'conductor'), lairUrl: lairUrl.trim(), network }),
    { mode: 0o600 },
  )
  const conductor = spawn(holochain, ['--piped', '-c', configPath], { stdio: 'pipe' })
  conductor.stdin.end(`${passphrase}\n`)
  if (conductor.pid !== undefined) await recordPid(pids.conductor, conductor.pid)
  let port: string
  try {
    port = (
      await waitForLine(conductor, 'holochain', /###ADMIN_PORT:(\d+)###/, join(root, 'holochain.log'))
    )[1]!
  } catch (err) {
    lairServer.kill('SIGTERM')
    throw err
  }
  logger.info({ port, pid: conductor.pid }, 'holochain conductor started')
  return {
    adminUrl: `ws://127.0.0.1:${port}`,
    pid: conductor.pid!,
    async stop() {
      await Promise.all([terminate(conductor), terminate(lairServer)])
    },
  }
}

/** The marker of a lair that holds the agent's seed (written once it was imported). */
const AGENT_IMPORTED = 'ripple-agent-imported'

async function importAgentSeed(lair: string, lairRoot: string, passphrase: string, seed: Uint8Array) {
  const marker = join(lairRoot, AGENT_IMPORTED)
  if (await pathExists(marker)) return
  // The bundle's passphrase is random and goes through the pipe: the bundle (an argument) is no use without it.
  const bundlePassphrase = randomBytes(32).toString('hex')
  const bundle = await encodeSeedBundle(seed, bundlePassphrase)
  await pipedRun(
    lair,
    ['--lair-root', lairRoot, 'import-seed', '--piped', 'ripple-agent', bundle],
    `${passphrase}\n${bundlePassphrase}`,
  )
  await writeFile(marker, '', { mode: 0o600 })
}

async function loadOrCreatePassphrase(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch {
    const passphrase = randomBytes(32).toString('hex')
    await writeFile(path, passphrase, { mode: 0o600, flag: 'wx' })
    await chmod(path, 0o600)
    return passphrase
  }
}

async function pipedRun(binary: string, args: string[], passphrase: string): Promise<void> {
  const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdin.end(`${passphrase}\n`)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0)
    throw new ConductorStartError(`${binary} ${args.join(' ')}`, `exit ${code}: ${stderr.slice(-500)}`)
}

/**
 * Waits for `pattern` in the child's output; from then on its output goes to `logPath` (read when the
 * conductor misbehaves), so the pipes keep draining and nothing piles up in this process.
 */
function waitForLine(
  child: ChildProcess,
  what: string,
  pattern: RegExp,
  logPath: string,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = ''
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      reject(new ConductorStartError(what, `exited with ${code}:\n${out.slice(-1000)}`))
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new ConductorStartError(what, `not ready after ${READY_TIMEOUT_MS} ms:\n${out.slice(-1000)}`))
    }, READY_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = pattern.exec(out)
      if (match === null) return
      clearTimeout(timer)
      child.off('exit', onExit)
      const log = createWriteStream(logPath, { flags: 'a', mode: 0o600 })
      log.write(out)
      for (const stream of [child.stdout, child.stderr]) {
        stream?.off('data', onData)
        stream?.pipe(log, { end: false })
      }
      child.once('exit', () => log.end())
      resolve(match)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
  })
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}
