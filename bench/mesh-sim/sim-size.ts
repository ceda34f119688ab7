/**
 * One size of the simulation in a process of its own, started by bench/mesh-sim.ts: what one size's
 * peers leave behind (timers, heap) goes with its process, and the heap may grow to most of the
 * machine's memory. Most of what such a process holds is garbage not yet collected: a simulated peer
 * keeps ~1.7 MB live (50 and 150 peers, after a full collection), and a collector given a heap this
 * large leaves its old generation to grow (8-11 MB a peer in use at 100). What bounds a size is the one
 * event loop's CPU (docs/networks.md); with `processes` this process controls the size's peers in
 * processes of their own (split-host.ts).
 */
import '../../host/runtime/node20-polyfills.ts'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { simNodeArgs } from './sim-process.ts'
import { type SizeFigures, sizeFigures } from './sim-report.ts'
import { runSimulation, type SimRunInit } from './sim-run.ts'

const RUN_ENV = 'MESH_SIM_RUN'
const OUT_ENV = 'MESH_SIM_OUT'

/** Runs one size in a child process; its progress goes to this process's stderr. */
export async function runSizeApart(init: SimRunInit): Promise<SizeFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-sim-'))
  const out = join(dir, 'figures.json')
  try {
    const child = spawn(process.execPath, [...simNodeArgs(), fileURLToPath(import.meta.url)], {
      env: { ...process.env, [RUN_ENV]: JSON.stringify(init), [OUT_ENV]: out },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
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
