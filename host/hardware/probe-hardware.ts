/**
 * What this machine has, in the contract's `Hardware` shape. The numbers a scheduler trusts
 * (cores, threads, RAM, VRAM, free disk) come straight from the OS, so they match the machine.
 */
import { arch, cpus } from 'node:os'
import si from 'systeminformation'
import { type Hardware, LIMITS } from '../../zomes-bindings/index.ts'
import { freeDiskBytes } from './free-disk.ts'
import { gpusFromControllers } from './gpus.ts'

const L = LIMITS.node_capability

/** `dataDir` is where the peer keeps its data; its filesystem's free space is advertised. */
export async function probeHardware(dataDir: string): Promise<Hardware> {
  const [cpu, mem, graphics, os, diskFree] = await Promise.all([
    si.cpu(),
    si.mem(),
    si.graphics(),
    si.osInfo(),
    freeDiskBytes(dataDir),
  ])
  const logical = cpus()
  const threads = logical.length
  return {
    cpu: {
      // The kernel's own model string (what /proc/cpuinfo and `lscpu` show), not systeminformation's
      // shortened brand, so a person recognises it.
      model: clip(logical[0]?.model.trim() || `${cpu.manufacturer} ${cpu.brand}`.trim(), L.cpu_model.max),
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
        vendor: clip(g.vendor, L.gpu_vendor.max),
        model: clip(g.model, L.gpu_model.max),
      })),
    disk_free_bytes: diskFree,
    os: {
      platform: clip(os.platform, L.os_platform.max),
      distro: clip(os.distro, L.os_distro.max),
      release: clip(os.release, L.os_release.max),
      kernel: clip(os.kernel, L.os_kernel.max),
    },
  }
}

function clip(s: string, max: number): string {
  return [...s].slice(0, max).join('')
}
