/**
 * Current load for heartbeats: CPU % since the previous sample, RAM % in use, and GPU % where
 * the driver reports it (NVIDIA through nvidia-smi); null when no GPU reports utilisation.
 */
import { cpus } from 'node:os'
import si from 'systeminformation'

export interface LoadSample {
  cpu_pct: number
  ram_pct: number
  gpu_pct: number | null
}

interface CpuTicks {
  busy: number
  total: number
}

export class LoadSampler {
  #previous: CpuTicks
  #gpuReported: boolean | null = null

  constructor() {
    // CPU % is measured between samples from the kernel's tick counters, so a sample costs no
    // waiting (systeminformation's first `currentLoad` sleeps to get a delta).
    this.#previous = cpuTicks()
  }

  async sample(): Promise<LoadSample> {
    const [mem, gpu_pct] = await Promise.all([si.mem(), this.#gpuPct()])
    return { cpu_pct: this.#cpuPct(), ram_pct: pct(mem.total - mem.available, mem.total), gpu_pct }
  }

  #cpuPct(): number {
    const now = cpuTicks()
    const busy = now.busy - this.#previous.busy
    const total = now.total - this.#previous.total
    this.#previous = now
    return pct(busy, total)
  }

  async #gpuPct(): Promise<number | null> {
    // Asking for graphics runs lspci/nvidia-smi; once a machine has shown it reports no GPU
    // utilisation, stop asking.
    if (this.#gpuReported === false) return null
    const { controllers } = await si.graphics()
    const utilisations = controllers.map((c) => c.utilizationGpu).filter((u) => typeof u === 'number')
    this.#gpuReported = utilisations.length > 0
    if (utilisations.length === 0) return null
    return clampPct(utilisations.reduce((a, b) => a + b, 0) / utilisations.length)
  }
}

function cpuTicks(): CpuTicks {
  let busy = 0
  let total = 0
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq
    total += all
    busy += all - times.idle
  }
  return { busy, total }
}

function pct(part: number, whole: number): number {
  return whole > 0 ? clampPct((part / whole) * 100) : 0
}

function clampPct(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 10) / 10))
}
