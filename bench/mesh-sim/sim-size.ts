/**
 * One size of the simulation in a process of its own, started by bench/mesh-sim.ts: what one size's
 * peers leave behind (timers, heap) goes with its process, and the heap may grow to most of the
 * machine's memory. Most of what such a process holds is garbage not yet collected: a simulated peer
 * keeps ~1.7 MB live (50 and 150 peers, after a full collection), and a collector given a heap this
 * large leaves its old generation to grow (8-11 MB a peer in use at 100). What bounds a size is the one
 * event loop's CPU (docs/networks.md).
 */
import '../../host/runtime/node20-polyfills.ts'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type SizeFigures, sizeFigures } from './sim-report.ts'
import { runSimulation, type SimRunInit } from './sim-run.ts'

/**
 * 64 MB semi-spaces (16 by default): the collector's time is all scavenges (the peers allocate ~200 MB
 * a real second), and a peer's streams and timers live simulated seconds, many real ones on a slowed
 * clock, so a small young generation copies them again and again. At 100 peers: 625 scavenges in the
 * window instead of 2,157, 15% of real time instead of 20. `gc()`: the live heap at the window's end.
 */
const V8_FLAGS = ['--max-semi-space-size=64', '--expose-gc']
const RUN_ENV = 'MESH_SIM_RUN'
const OUT_ENV = 'MESH_SIM_OUT'

/** Runs one size in a child process; its progress goes to this process's stderr. */
export async function runSizeApart(init: SimRunInit): Promise<SizeFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-sim-'))
  const out = join(dir, 'figures.json')
  try {
    const heapMb = Math.floor((totalmem() / 2 ** 20) * 0.75)
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${heapMb}`, ...V8_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url)],
      {
        env: { ...process.env, [RUN_ENV]: JSON.stringify(init), [OUT_ENV]: out },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    )
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) throw new Error(`mesh-sim: the run of ${init.size} peers exited with ${code}`)
    return JSON.parse(await readFile(out, 'utf8')) as SizeFigures
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const run = process.env[RUN_ENV]
const out = process.env[OUT_ENV]
if (run !== undefined && out !== undefined) {
  const figures = sizeFigures(await runSimulation(JSON.parse(run) as SimRunInit))
  await writeFile(out, JSON.stringify(figures))
  // Peers stopped, but a closed libp2p node's stray timers must not keep the figures waiting.
  process.exit(0)
}
