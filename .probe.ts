import { getLlama, LlamaCompletion } from 'node-llama-cpp'
for (const threads of [1, 2, 1, 2]) {
  const llama = await getLlama({ build: 'never', gpu: false, maxThreads: threads })
  const model = await llama.loadModel({ modelPath: '/tmp/nlc/bench.gguf' })
  const ctx = await model.createContext({ contextSize: 1024, threads })
  const seq = ctx.getSequence()
  let first = 0
  const t0 = performance.now()
  await new LlamaCompletion({ contextSequence: seq }).generateCompletion('The quick brown fox jumps over the lazy dog. '.repeat(4), { maxTokens: 48, onToken: () => { first ||= performance.now() } })
  const t1 = performance.now()
  console.log('threads', threads, 'prompt+first ms', (first - t0).toFixed(0), 'gen tok/s', (47 * 1000 / (t1 - first)).toFixed(1), 'load', (await import('node:os')).loadavg()[0].toFixed(1))
  await llama.dispose()
}
