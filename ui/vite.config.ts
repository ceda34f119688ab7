import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// Built into ui/dist, which every daemon serves at `/` (host/api/dashboard/static-files.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
})
