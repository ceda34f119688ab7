/**
 * What this machine has, in the contract's `Hardware` shape. The numbers a scheduler trusts
 * (cores, threads, RAM, VRAM, free disk) come straight from the OS, so they match the machine.
 */
import { arch, cpus } from 'node:os'
import si from 'systeminformation'
import { fitText, type Hardware, LIMITS } from '../../zomes-bindings/index.ts'
import { freeDiskBytes } from './free-disk.ts'
import { gpusFromControllers } from './gpus.ts'

const L = LIMITS.node_capability

/**
 * How long the facts that do not change while a machine runs (its CPU, GPUs, OS) are reused: asking
 * runs lscpu, lspci, nvidia-smi and hostname, and the capability is measured again every 30 s.
 */
const FIXED_FACTS_MS = 10 * 60_000

let fixed: { at: number; facts: ReturnType<typeof fixedFacts> } | null = null

function fixedFacts() {
  return Promise.all([si.cpu(), si.graphics(), si.osInfo()])
}

/** `dataDir` is where the peer keeps its data; its filesystem's free space is advertised. */
export async function probeHardware(dataDir: string): Promise<Hardware> {
  if (fixed === null || Date.now() - fixed.at >= FIXED_FACTS_MS) {
    fixed = { at: Date.now(), facts: fixedFacts() }
    // A failed probe is asked again next time, not kept.
    fixed.facts.catch(() => {
      fixed = null
    })
  }
  const [[cpu, graphics, os], mem, diskFree] = await Promise.all([
    fixed.facts,
    si.mem(),
    freeDiskBytes(dataDir),
  ])
  const logical = cpus()
  const threads = logical.length
  return {
    cpu: {
      // The kernel's own model string (what /proc/cpuinfo and `lscpu` show), not systeminformation's
      // shortened brand, so a person recognises it.
      model: fitText(logical[0]?.model.trim() || `${cpu.manufacturer} ${cpu.brand}`.trim(), L.cpu_model.max),
      cores: Math.min(cpu.physicalCores || threads, threads),
      threads,
      arch: arch(),
      speed_ghz: Math.min(cpu.speed || cpu.speedMax || 0, L.cpu_speed_ghz.max),
    },
    ram_bytes: mem.total,
    gpus: gpusFromControllers(graphics.controllers)
      .slice(0, L.gpus.max)
      .map((g) => ({
        ...g,
        vendor: fitText(g.vendor, L.gpu_vendor.max),
        model: fitText(g.model, L.gpu_model.max),
      })),
    disk_free_bytes: diskFree,
    os: {
      platform: fitText(os.platform, L.os_platform.max),
      distro: fitText(os.distro, L.os_distro.max),
      release: fitText(os.release, L.os_release.max),
      kernel: fitText(os.kernel, L.os_kernel.max),
    },
  }
}
