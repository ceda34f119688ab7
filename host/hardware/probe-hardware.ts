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
