import { readFile, statfs } from 'node:fs/promises'
import { arch, cpus, tmpdir, totalmem } from 'node:os'
import { describe, expect, it } from 'vitest'
import { LoadSampler } from '../../../host/hardware/load-sampler.ts'
import { probeHardware } from '../../../host/hardware/probe-hardware.ts'
import { HardwareSchema } from '../../../zomes-bindings/index.ts'

const isLinux = process.platform === 'linux'

describe('probeHardware', () => {
  it('reports the numbers the OS reports', async () => {
    const dir = tmpdir()
    const hw = await probeHardware(dir)
    expect(HardwareSchema.parse(hw)).toEqual(hw)
    expect(hw.cpu.threads).toBe(cpus().length)
    expect(hw.cpu.cores).toBeGreaterThanOrEqual(1)
    expect(hw.cpu.cores).toBeLessThanOrEqual(hw.cpu.threads)
    expect(hw.cpu.arch).toBe(arch())
    expect(hw.ram_bytes).toBe(totalmem())
    expect(hw.os.platform).toBe(process.platform)

    // Free disk moves as other processes write; allow 256 MiB between the two readings.
    const fs = await statfs(dir)
    expect(Math.abs(hw.disk_free_bytes - fs.bavail * fs.bsize)).toBeLessThan(256 * 1024 ** 2)
  })

  it.runIf(isLinux)('names the CPU as /proc/cpuinfo does, with its physical core count', async () => {
    const hw = await probeHardware(tmpdir())
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8')
    const modelName = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim()
    if (modelName) expect(hw.cpu.model).toBe(modelName)
    // Physical cores: distinct (physical id, core id) pairs, where the kernel lists them.
    const cores = new Set(
      cpuinfo
        .split('\n\n')
        .filter((block) => /core id/.test(block))
        .map(
          (block) =>
            `${/physical id\s*:\s*(\d+)/.exec(block)?.[1]}:${/core id\s*:\s*(\d+)/.exec(block)?.[1]}`,
        ),
    )
    if (cores.size > 0) expect(hw.cpu.cores).toBe(cores.size)
  })

  it.runIf(isLinux)('reports the kernel release the OS reports', async () => {
    const hw = await probeHardware(tmpdir())
    const release = (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim()
    expect(hw.os.kernel).toBe(release)
  })
})

describe('LoadSampler', () => {
  it('samples CPU and RAM percentages in range', async () => {
    const sampler = new LoadSampler()
    // Burn a little CPU so the interval has ticks to count.
    const until = Date.now() + 50
    while (Date.now() < until) Math.sqrt(Math.random())
    const load = await sampler.sample()
    for (const pct of [load.cpu_pct, load.ram_pct]) {
      expect(pct).toBeGreaterThanOrEqual(0)
      expect(pct).toBeLessThanOrEqual(100)
    }
    expect(load.ram_pct).toBeGreaterThan(0)
    if (load.gpu_pct !== null) expect(load.gpu_pct).toBeLessThanOrEqual(100)
  })
})
