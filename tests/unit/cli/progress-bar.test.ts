/**
 * The CLI's one progress bar: a line kept updated on a terminal, a line per tenth otherwise; the count
 * alone while the total is not known, stepping per 64 MiB; nothing when off or under its quiet total.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { progressBar } from '../../../host/cli/progress-bar.ts'
import type { Progress } from '../../../host/interface/progress.ts'

const MiB = 1024 * 1024
let written: string[] = []
const savedTty = process.stderr.isTTY

beforeEach(() => {
  written = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk))
    return true
  })
})

afterEach(() => {
  vi.restoreAllMocks()
  process.stderr.isTTY = savedTty
})

const bytes = (done: number, total: number | null): Progress => ({
  stage: 'download',
  done,
  total,
  unit: 'bytes',
})

describe('progressBar', () => {
  it('keeps one line updated on a terminal, and ends it', () => {
    process.stderr.isTTY = true
    const bar = progressBar('pulling', { enabled: true })
    bar.show(bytes(0, 4 * MiB))
    bar.show(bytes(3 * MiB, 4 * MiB))
    bar.end()
    expect(written).toEqual([
      `\rripple: pulling [${'.'.repeat(30)}] 0% 0 B / 4.0 MiB`,
      `\rripple: pulling [${'#'.repeat(23)}${'.'.repeat(7)}] 75% 3.0 MiB / 4.0 MiB`,
      '\n',
    ])
  })

  it('writes a line per tenth elsewhere, a load in percent without counts', () => {
    process.stderr.isTTY = false
    const bar = progressBar('loading tiny', { enabled: true })
    for (const done of [0, 3, 5, 12, 19, 100]) bar.show({ stage: 'load', done, total: 100, unit: 'percent' })
    bar.end()
    expect(written.map((line) => line.replace(/\[[#.]+\] /, ''))).toEqual([
      'ripple: loading tiny 0%\n',
      'ripple: loading tiny 12%\n',
      'ripple: loading tiny 100%\n',
    ])
  })

  it('counts alone while the total is not known, a line per 64 MiB', () => {
    process.stderr.isTTY = false
    const bar = progressBar('adding', { enabled: true, quietBelow: MiB })
    for (const done of [MiB, 63 * MiB, 64 * MiB, 100 * MiB]) bar.show(bytes(done, null))
    expect(written).toEqual(['ripple: adding 1.0 MiB\n', 'ripple: adding 64.0 MiB\n'])
  })

  it('shows nothing when off, or for a total under its quiet one', () => {
    process.stderr.isTTY = true
    progressBar('adding', { enabled: false }).show(bytes(5 * MiB, 10 * MiB))
    const small = progressBar('adding', { enabled: true, quietBelow: MiB })
    small.show(bytes(10, 1000))
    small.end()
    const docs = progressBar('upserting into notes', { enabled: true, quietBelow: 2000 })
    docs.show({ stage: 'write', done: 1000, total: 1500, unit: 'items' })
    expect(written).toEqual([])
  })
})
