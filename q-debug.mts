import { mkdir, mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BENCH_MODEL, writeLlamaModel } from '/work/main/host/inference/gguf-gen/llama-generator.ts'
import { isolatedNetwork, startRipple } from '/work/main/tests/e2e/ripple-process.ts'
import { endpointPath, startLlamaServer } from '/work/main/bench/chat-paths.ts'
const root = await mkdtemp(join(tmpdir(), 'q-'))
const models = join(root, 'm'); await mkdir(models)
await writeLlamaModel(join(models, 'bench-104m.gguf'), BENCH_MODEL)
const network = await isolatedNetwork(root, 'q')
const slots = process.argv[2] ?? '8'
const d = await startRipple(['--network', network, '--data-dir', join(root, 'd'), '--models-dir', models, '--api-port', '0', '--parallel', slots, '--context-size', '2048', '--log-level', 'warn'], 90_000)
const url = /^ripple: api (\S+)$/m.exec(d.stdout())?.[1] ?? ''
const token = (await readFile(join(root, 'd', 'api-token'), 'utf8')).trim()
const M = [{ role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog. '.repeat(3) }]
const peer = endpointPath('p', 'p', { url, token }, 'bench-104m', M)
for (let i = 0; i < 5; i++) { const s = await peer.run(128); console.log('ripple ttft', s.ttft_ms.toFixed(1), 'tok/s', s.tok_s.toFixed(1)) }
const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench-104m', messages: M, max_tokens: 4, temperature: 0 }) })
console.log(JSON.stringify((await r.json()).usage))
d.child.kill('SIGKILL')
process.exit(0)
