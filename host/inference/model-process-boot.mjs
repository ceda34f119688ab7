// The entry of a model process: loads tsx (as bin/ripple.js does) and runs the TypeScript main.
import { register } from 'tsx/esm/api'

register()
await import('./model-process-main.ts')
