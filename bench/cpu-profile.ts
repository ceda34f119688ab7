/**
 * The V8 sampling profiler of a daemon this benchmark started with `--inspect=127.0.0.1:0` (its
 * inspector's URL read from its stderr), over the Chrome DevTools Protocol; and the profile's top
 * functions by self time, and Ripple's own by inclusive time, as Markdown tables.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { round, waitFor } from './measure.ts'

export interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
export interface Profile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/** A Chrome DevTools Protocol session on a process's inspector. */
export async function inspector(
  stderr: () => string,
): Promise<{ call: (method: string, params?: object) => Promise<unknown>; close(): void }> {
  let url: string | undefined
  await waitFor('the inspector URL', () => {
    url = /Debugger listening on (ws:\S+)/.exec(stderr())?.[1]
    return url !== undefined
  })
  const ws = new WebSocket(url!)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const pending = new Map<number, (result: unknown) => void>()
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown }
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result)
  })
  let id = 0
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        id += 1
        pending.set(id, resolve)
        ws.send(JSON.stringify({ id, method, params }))
      }),
    close: () => ws.close(),
  }
}

/**
 * Where a line of a bundle in dist/ came from: esbuild heads each module's code with a `// <path>`
 * comment, so the daemons can be profiled as they run for users and still be read by source file.
 */
const bundleSources = new Map<string, { line: number; path: string }[]>()
function sourceOf(frame: CallFrame): string {
  if (!frame.url.startsWith('file://') || !frame.url.includes('/dist/')) return frame.url
  let marks = bundleSources.get(frame.url)
  if (marks === undefined) {
    marks = []
    for (const [line, text] of readFileSync(fileURLToPath(frame.url), 'utf8').split('\n').entries()) {
      const path = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(text)?.[1]
      if (path !== undefined) marks.push({ line, path })
    }
    bundleSources.set(frame.url, marks)
  }
  return marks.findLast((m) => m.line <= frame.lineNumber)?.path ?? frame.url
}

/** A frame's function and file (a bundle's frames by their source file: their line is the bundle's). */
function frameName(frame: CallFrame): string {
  const source = sourceOf(frame)
  const file = source.replace(/^.*\/(node_modules\/|host\/|zomes-bindings\/)/, '$1')
  return `${frame.functionName || '(anonymous)'} ${file}${source === frame.url ? `:${frame.lineNumber + 1}` : ''}`
}

/**
 * Self time (ms) by function, `(idle)` left out, highest first; and the inclusive time of Ripple's own
 * functions (host/, zomes-bindings/), each counted once per sample however deep it recurses.
 */
function times(profile: Profile): {
  self: { name: string; ms: number }[]
  own: { name: string; ms: number }[]
} {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const own = new Map<string, number>()
  for (const [i, nodeId] of profile.samples.entries()) {
    const frame = frames.get(nodeId)!
    if (frame.functionName === '(idle)') continue
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    self.set(frameName(frame), (self.get(frameName(frame)) ?? 0) + ms)
    const seen = new Set<string>()
    for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
      const f = frames.get(id)!
      const source = sourceOf(f)
      if (!/(^|\/)(host|zomes-bindings)\//.test(source) || source.includes('node_modules')) continue
      seen.add(frameName(f))
    }
    for (const name of seen) own.set(name, (own.get(name) ?? 0) + ms)
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms)
  return { self: sorted(self), own: sorted(own) }
}

/** Prints the profile's top `top` functions by self time and Ripple's own by inclusive time, per `per`. */
export function printTop(title: string, profile: Profile, per: number, top: number): void {
  const { self, own } = times(profile)
  const total = self.reduce((s, t) => s + t.ms, 0)
  console.log(`\n## ${title}, ${round(total / per, 2)} ms sampled`)
  console.log('| self ms | % | function |\n| --- | --- | --- |')
  for (const t of self.slice(0, top))
    console.log(`| ${round(t.ms / per, 3)} | ${round((100 * t.ms) / total)} | ${t.name} |`)
  console.log(`\nRipple's own functions, inclusive:\n| ms | % | function |\n| --- | --- | --- |`)
  for (const t of own.slice(0, top * 2))
    console.log(`| ${round(t.ms / per, 3)} | ${round((100 * t.ms) / total)} | ${t.name} |`)
}
