#!/usr/bin/env node
// Runs the TypeScript CLI in this same process through tsx's loader: no build step, and the
// daemon's pid and signals are this process's own (no wrapper process in between).
import { register } from 'tsx/esm/api'

register()
await import('../host/cli/main.ts')
