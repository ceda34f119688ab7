/**
 * The peers of a split test: `ripple up` processes on one network, each with its own models dir (the
 * head's holding the file) and a model memory too small for the file alone, and the wait until the
 * head has heard every peer's free model memory (what it plans from).
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type RunningRipple, runRipple, startRipple } from './ripple-process.ts'

export type SplitPeer = RunningRipple & {
  name: string
  dataDir: string
  agent: string
  url: string
  token: string
}

export interface SplitPeerOptions {
  root: string
  network: string
  name: string
  /** `--model-memory`, e.g. '30MiB'. */
  modelMemory: string
  /** Puts the model file in the peer's models dir (the head only). */
  place?: (modelsDir: string) => Promise<unknown>
}

export async function startSplitPeer(options: SplitPeerOptions): Promise<SplitPeer> {
  const { root, network, name } = options
  const dataDir = join(root, name)
  const models = join(root, `${name}-models`)
  await mkdir(models, { recursive: true })
  await options.place?.(models)
  const flags = ['--network', network, '--data-dir', dataDir, '--models-dir', models, '--api-port', '0']
  const daemon = await startRipple(
    [
      ...flags,
      '--name',
      name,
      '--threads',
      '1',
      '--model-memory',
      options.modelMemory,
      '--log-level',
      'warn',
    ],
    90_000,
  )
  const line = (key: string) => new RegExp(`^ripple: ${key} (\\S+)$`, 'm').exec(daemon.stdout())?.[1] ?? ''
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  return { ...daemon, name, dataDir, agent: line('agent'), url: line('api'), token }
}

/** Waits until `head` sees `count` peers online with their free model memory (itself included). */
export async function untilHeadSeesPeers(head: SplitPeer, count: number): Promise<void> {
  for (const deadline = Date.now() + 60_000; ; ) {
    const seen = JSON.parse((await runRipple(['peers', '--json', '--data-dir', head.dataDir])).stdout) as {
      peers: { status: string; load: { model_free_bytes?: number } | null }[]
    }
    const ready = seen.peers.filter((p) => p.status === 'online' && p.load?.model_free_bytes !== undefined)
    if (ready.length === count) return
    if (Date.now() > deadline) throw new Error('the head never saw the other peers')
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}
