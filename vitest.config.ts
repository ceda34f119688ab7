import { configDefaults, defineConfig } from 'vitest/config'

// The named test files of one tests/unit/ folder.
const unit = (folder: string, names: string[]) => names.map((name) => `tests/unit/${folder}/${name}.test.ts`)

/**
 * Unit test files that start a process (llama-server, holochain, kubo, the CLI, git, a hardware probe),
 * listen on a socket (the API server, libp2p on loopback TCP, mDNS, HTTP stand-ins), mock a module
 * (vi.mock needs a fresh module graph) or wait on libp2p timers for seconds. Found by a run that
 * logged every spawn, listen and bind per file, and by their imports. A new unit test file that does
 * any of these belongs here; any other shares the forks of the 'unit' project.
 */
export const OWN_FORK = [
  ...unit('api', [
    'agent-sessions',
    'anthropic-door',
    'api-client',
    'bad-requests',
    'caller-errors',
    'chat-agents',
    'endpoint-auth-and-capacity',
    'image-parts',
    'incomplete-output',
    'key-limits-door',
    'model-aliases',
    'openapi-route',
    'peers-warrants',
    'request-priority',
    'responses-door',
    'run-request-route',
    'runner-limits-door',
    'task-routes',
    'usage-route',
  ]),
  ...unit('cli', ['systemd-verify']),
  ...unit('conductor', ['crash-safety', 'holochain-backend', 'leftover-process']),
  ...unit('conductor/replication', ['chain-overlap', 'reads-deadline']),
  ...unit('contract', ['holochain-conductor']),
  ...unit('daemon', ['data-dir-format']),
  ...unit('hardware', ['probe-hardware']),
  ...unit('inference', [
    'engine-backends',
    'engine-connections',
    'engine-crash',
    'engine-http',
    'engine-key-dirs',
    'engine-parking',
    'engine-reasoning',
    'engine-slots',
    'engine-whole',
    'infer-workers',
    'keep-alive',
    'model-load-abort',
    'model-manager',
    'model-pull',
    'model-room',
    'template-collection',
    'vision-engine',
  ]),
  ...unit('ipfs', ['kubo-store']),
  ...unit('membership', ['admission-request', 'joiner-trust']),
  ...unit('net', [
    'connection-cap',
    'deep-nesting',
    'explicit-peers',
    'guarded-fetch',
    'lifecycle',
    'mdns-discovery',
    'member-dial-walks',
    'member-gate',
    'mixed-releases',
    'model-directory',
    'model-topics',
    'outgoing-members',
    'peer-exchange',
    'private-connection',
    'private-network',
    'protocol-versions',
    'pubsub',
    'request-response',
    'streams-held-open',
    'writes-per-turn',
  ]),
  ...unit('node', ['agent-port']),
  ...unit('registry', ['model-news', 'registry-service']),
  ...unit('split', ['rpc-tunnel']),
  ...unit('structure', ['file-size']),
  ...unit('usage', ['key-reservations']),
]

export default defineConfig({
  test: {
    setupFiles: ['host/runtime/node20-polyfills.ts'],
    // The JSON report lets .ci/run print one plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        // The other unit tests share two long-lived forks (modules stay loaded between files): a
        // fresh fork and its imports took ~0.4 s a file, against ~0.2 s of tests on average.
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...OWN_FORK],
          isolate: false,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Two cores: a fork per file keeps native addons, daemons and engines apart, and one file at
        // a time keeps their timings honest.
        extends: true,
        test: {
          name: 'own-fork',
          include: ['tests/{e2e,scenarios,net}/**/*.test.ts', ...OWN_FORK],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
