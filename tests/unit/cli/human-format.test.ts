/**
 * human-format: what the CLI prints for a person (durations, counts, keep-alive, a capability, rows
 * and tables, the engine), each value written the one way the commands share. That rows and tables
 * escape what peers sent is tested with printable (tests/unit/text/printable.test.ts).
 */
import { describe, expect, it } from 'vitest'
import {
  alignRows,
  capabilityRows,
  engineLine,
  formatCount,
  formatTable,
  keepAliveLine,
  slotsLine,
} from '../../../host/cli/human-format.ts'
import type { BackendStatus } from '../../../host/inference/engine/engine-backends.ts'
import type { ModelInfo } from '../../../zomes-bindings/index.ts'
import { capability } from '../conductor/fixtures/capability.ts'

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1_000, '1.0K'],
    [1_250, '1.3K'],
    [7_000_000, '7.0M'],
    [8_030_000_000, '8.0B'],
    [70_600_000_000, '70.6B'],
  ])('writes %i as %j', (n, text) => {
    expect(formatCount(n)).toBe(text)
  })
})

describe('keepAliveLine', () => {
  it("writes the keep-alive with the CLI's durations", () => {
    const now = Date.now()
    expect(keepAliveLine({ idle_since: null, unloads_at: null })).toBe('busy')
    // Minutes and seconds, well clear of a second ticking over during the test.
    expect(keepAliveLine({ idle_since: now - 125_400, unloads_at: null })).toMatch(
      /^idle 2m 5s, kept loaded$/,
    )
    expect(keepAliveLine({ idle_since: now - 3_600_400, unloads_at: now + 7_200_600 })).toMatch(
      /^idle 1h, unloads in 2h$/,
    )
  })
})

describe('slotsLine', () => {
  it.each([
    [{ slots: 6, held_back: 2, running: 5 }, '4 slots + 2 held back, 5 running'],
    [{ slots: 4, held_back: 0, running: 0 }, '4 slots, 0 running'],
  ])('writes %j as %j', (m, text) => {
    expect(slotsLine(m)).toBe(text)
  })
})

describe('capabilityRows', () => {
  const model = (over: Partial<ModelInfo>): ModelInfo => ({
    name: 'qwen',
    file_hash: 'a'.repeat(64),
    size_bytes: 1,
    parameters: null,
    quantisation: null,
    context_length: null,
    architecture: null,
    loaded: false,
    ...over,
  })

  it('describes the hardware, models and tags in labelled rows', () => {
    const rows = capabilityRows(
      capability({
        inference: {
          models: [
            model({
              name: 'qwen3-8b',
              architecture: 'qwen3',
              parameters: 8_190_000_000,
              quantisation: 'Q4_K_M',
            }),
            model({ name: 'bare' }),
          ],
          tokens_per_second: null,
        },
      }),
    )
    expect(Object.fromEntries(rows)).toEqual({
      name: 'node-a',
      cpu: 'Test CPU, 2 cores / 4 threads, x64',
      ram: '8.0 GiB',
      gpus: 'NVIDIA H100 (80.0 GiB)',
      'disk free': '100.0 GiB',
      os: 'Debian 12, kernel 6.1.0',
      models: 'qwen3-8b (qwen3 8.2B Q4_K_M); bare ()',
      tags: 'gpu, gpu-large',
    })
    expect(rows.map(([label]) => label)).toEqual([
      'name',
      'cpu',
      'ram',
      'gpus',
      'disk free',
      'os',
      'models',
      'tags',
    ])
  })

  it('says none where there are no GPUs, models or tags, and the platform without a distro', () => {
    const base = capability()
    const rows = Object.fromEntries(
      capabilityRows({
        ...base,
        hardware: {
          ...base.hardware,
          gpus: [],
          os: { platform: 'darwin', distro: '', release: '14.5', kernel: '23.5' },
        },
        tags: [],
      }),
    )
    expect(rows.gpus).toBe('none')
    expect(rows.models).toBe('none')
    expect(rows.tags).toBe('none')
    expect(rows.os).toBe('darwin 14.5, kernel 23.5')
  })
})

describe('alignRows', () => {
  it('pads every label to the widest, two spaces before the value, after the indent', () => {
    expect(
      alignRows(
        [
          ['ram', '8 GiB'],
          ['disk free', '1 TiB'],
        ],
        '  ',
      ),
    ).toBe('  ram        8 GiB\n  disk free  1 TiB')
  })
})

describe('formatTable', () => {
  it('pads each column to its widest cell and trims the end of each line', () => {
    expect(
      formatTable(
        ['AGENT', 'STATUS', 'NAME'],
        [
          ['uhCAkA', 'online', 'a'],
          ['uhCAkLonger', 'stale', ''],
        ],
      ),
    ).toBe(['AGENT        STATUS  NAME', 'uhCAkA       online  a', 'uhCAkLonger  stale'].join('\n'))
  })

  it('is the header alone with no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B')
  })
})

describe('engineLine', () => {
  it('says how to build the engine when there is none', () => {
    expect(engineLine(null)).toMatch(/^not built: run `bash scripts\/build-engine\.sh`/)
  })

  it('names the build and the backend, without the summary prefix', () => {
    const status: BackendStatus = {
      backend: 'cuda',
      kind: 'cuda',
      summary: 'engine backend: CUDA (H100); vulkan skipped',
      backends: [],
      engine_build: 'de3ff815ea7d/rpc7.0.0',
    }
    expect(engineLine(status)).toBe('llama.cpp de3ff815ea7d/rpc7.0.0, CUDA (H100); vulkan skipped')
  })
})
