import { defineConfig } from 'vitepress'
import { checkAnchors } from './anchors.ts'

// Dead links to pages fail VitePress's own build (ignoreDeadLinks stays off); links to an anchor
// that no page has are checked on the built HTML by checkAnchors, which fails the build too.
export default defineConfig({
  title: 'Ripple',
  description: 'A peer-to-peer agent mesh: pool GPUs and CPUs for your agents',
  lang: 'en',
  cleanUrls: true,
  lastUpdated: false,
  markdown: { headers: { level: [2, 3] } },
  buildEnd: (site) => checkAnchors(site.outDir),
  themeConfig: {
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    nav: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'Agents', link: '/agents/' },
      { text: 'Reference', link: '/reference/' },
      { text: 'Troubleshooting', link: '/troubleshooting' },
    ],
    sidebar: [
      {
        text: 'Start',
        items: [
          { text: 'What Ripple is', link: '/' },
          { text: 'Getting started', link: '/getting-started' },
          { text: 'Meshes, invites, roles and revocation', link: '/meshes' },
          { text: 'Networks and the internet', link: '/networks' },
          { text: 'Dashboard', link: '/dashboard' },
        ],
      },
      {
        text: 'Agents',
        items: [
          { text: 'Pointing an agent at Ripple', link: '/agents/' },
          { text: 'Claude Code', link: '/agents/claude-code' },
          { text: 'Codex CLI', link: '/agents/codex' },
          { text: 'Qwen Code', link: '/agents/qwen-code' },
          { text: 'opencode', link: '/agents/opencode' },
          { text: 'Continue and Aider', link: '/agents/continue' },
          { text: 'MCP', link: '/agents/mcp' },
        ],
      },
      {
        text: 'Running work',
        items: [
          { text: 'Models, engines, GPUs and backends', link: '/models' },
          { text: 'Splitting a model', link: '/splitting' },
          { text: 'Tasks and policies', link: '/tasks' },
          { text: 'Artifacts', link: '/artifacts' },
          { text: 'Shared memory', link: '/memory' },
        ],
      },
      {
        text: 'Trust and sharing',
        items: [
          { text: 'The record, privacy and bystanders', link: '/record' },
          { text: 'Usage, limits and fair sharing', link: '/usage' },
          { text: 'Security model', link: '/security' },
        ],
      },
      {
        text: 'Operating',
        items: [
          { text: 'Running in production', link: '/production' },
          { text: 'Ripple as a service', link: '/production/service' },
          { text: 'Upgrading a mesh', link: '/upgrading' },
          { text: 'The CLI and the management API', link: '/cli-and-api' },
          { text: 'Troubleshooting', link: '/troubleshooting' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'Overview', link: '/reference/' },
          { text: 'Management API', link: '/reference/api' },
          { text: 'CLI', link: '/reference/cli' },
          { text: 'Network file', link: '/reference/network-file' },
          { text: 'Metrics', link: '/reference/metrics' },
          { text: 'Where records live', link: '/reference/record-scopes' },
        ],
      },
      {
        text: 'Contributors',
        items: [
          { text: 'Architecture', link: '/architecture' },
          { text: 'The Holochain backend', link: '/holochain' },
          { text: 'Benchmarks', link: '/benchmarks' },
        ],
      },
    ],
  },
})
