/**
 * A small internet on this machine, built from Linux network namespaces (root only): a "public"
 * namespace with a bridge, one NAT router per home (nftables masquerade on its WAN side, or
 * `masquerade random`, the NAT hole punching cannot beat), and one home namespace behind each router.
 * Nothing is linked to the machine's own interfaces: every veth is created inside the lab's
 * namespaces, so no packet can leave it. The public side uses 11.0.0.0/24, which libp2p counts as
 * public (its `isPrivate` counts the documentation ranges as private); homes use 10.<n>.0.0/24.
 * Names are unique per lab, and `destroy()` (also run at process exit) removes every namespace, with
 * its links, addresses and rules.
 *
 *   home<n> 10.n.0.2 --lan-- 10.n.0.1 router<n> 11.0.0.(1+n) --wan-- bridge 11.0.0.1 public
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const PUBLIC_IP = '11.0.0.1'
export const routerWanIp = (home: number) => `11.0.0.${1 + home}`
export const homeIp = (home: number) => `10.${home}.0.2`

export type NatKind = 'port-preserving' | 'random'

export interface NatLabInit {
  /** How many home namespaces, each behind its own router (1..9). */
  homes: number
  /** `masquerade` (keeps the source port where it can) or `masquerade random`; default the first. */
  nat?: NatKind
}

export interface NatLab {
  /** Namespace names: `public`, `router<n>`, `home<n>` (n from 1). */
  readonly ns: Readonly<Record<string, string>>
  /** Runs a command in a namespace and answers its stdout; throws on failure. */
  exec(ns: string, command: string, args: readonly string[]): Promise<string>
  /** UDP packets home `n` sent to other homes' public addresses (not the relay's), through its router. */
  udpToPeers(home: number): Promise<number>
  /** Starts a long-running process in a namespace; it is killed by destroy(). */
  spawn(ns: string, command: string, args: readonly string[], options?: { cwd?: string }): ChildProcess
  destroy(): Promise<void>
}

/** Why a lab cannot be built here (not root, no `ip` or `nft`), or null when it can. */
export async function natLabUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'namespace lab needs root'
  for (const tool of ['ip', 'nft']) {
    const found = await run('sh', ['-c', `command -v ${tool}`]).then(
      () => true,
      () => false,
    )
    if (!found) return `namespace lab needs \`${tool}\` (bash scripts/install.sh installs nftables)`
  }
  return null
}

export async function createNatLab(init: NatLabInit): Promise<NatLab> {
  const id = randomBytes(3).toString('hex')
  const ns: Record<string, string> = { public: `rl-${id}-pub` }
  for (let n = 1; n <= init.homes; n++) {
    ns[`router${n}`] = `rl-${id}-r${n}`
    ns[`home${n}`] = `rl-${id}-h${n}`
  }
  const names = Object.values(ns)
  const children = new Set<ChildProcess>()
  let destroyed = false
  // Last resort when the test process dies before its finally: namespaces must not outlive it.
  const onExit = () => {
    for (const child of children) child.kill('SIGKILL')
    for (const name of names) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
      } catch {}
    }
  }
  process.once('exit', onExit)

  const ip = (...args: string[]) => run('ip', args)
  const inNs = (name: string, command: string, args: readonly string[]) =>
    run('ip', ['netns', 'exec', name, command, ...args], { maxBuffer: 16 * 1024 * 1024 })
  const lab: NatLab = {
    ns,
    exec: async (name, command, args) => (await inNs(name, command, args)).stdout,
    async udpToPeers(home) {
      const { stdout } = await inNs(ns[`router${home}`]!, 'nft', [
        'list',
        'counter',
        'inet',
        'filter',
        'udp_to_peers',
      ])
      return Number(/packets (\d+)/.exec(stdout)?.[1] ?? Number.NaN)
    },
    spawn(name, command, args, options = {}) {
      const child = spawn('ip', ['netns', 'exec', name, command, ...args], {
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve()
              child.once('exit', () => resolve())
              child.kill('SIGKILL')
            }),
        ),
      )
      for (const name of names) await ip('netns', 'del', name).catch(() => {})
      process.removeListener('exit', onExit)
    },
  }

  try {
    for (const name of names) {
      await ip('netns', 'add', name)
      await ip('-n', name, 'link', 'set', 'lo', 'up')
    }
    const pub = ns.public!
    await ip('-n', pub, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', pub, 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', 'br0')
    await ip('-n', pub, 'link', 'set', 'br0', 'up')
    for (let n = 1; n <= init.homes; n++) {
      const router = ns[`router${n}`]!
      const home = ns[`home${n}`]!
      // Both ends are created inside the lab: neither ever exists in the machine's namespace.
      await ip('-n', pub, 'link', 'add', `r${n}`, 'type', 'veth', 'peer', 'name', 'wan', 'netns', router)
      await ip('-n', pub, 'link', 'set', `r${n}`, 'master', 'br0', 'up')
      await ip('-n', router, 'addr', 'add', `${routerWanIp(n)}/24`, 'dev', 'wan')
      await ip('-n', router, 'link', 'set', 'wan', 'up')
      await ip('-n', router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home)
      await ip('-n', router, 'addr', 'add', `10.${n}.0.1/24`, 'dev', 'lan')
      await ip('-n', router, 'link', 'set', 'lan', 'up')
      await ip('-n', home, 'addr', 'add', `${homeIp(n)}/24`, 'dev', 'eth0')
      await ip('-n', home, 'link', 'set', 'eth0', 'up')
      await ip('-n', home, 'route', 'add', 'default', 'via', `10.${n}.0.1`)
      await inNs(router, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'])
      await nftApply(router, routerRules(init.nat ?? 'port-preserving'))
    }
  } catch (err) {
    await lab.destroy()
    throw err
  }
  return lab
}

/**
 * A home router: masquerade what leaves by the WAN; from the WAN only replies get in; conntrack
 * INVALID packets are dropped (else they would leave un-NATed, see stack-notes).
 */
function routerRules(nat: NatKind): string {
  return `
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade${nat === 'random' ? ' random' : ''}
  }
}
table inet filter {
  counter udp_to_peers {}
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid drop
    iifname "lan" oifname "wan" ip daddr != ${PUBLIC_IP} meta l4proto udp counter name "udp_to_peers" accept
    iifname "lan" oifname "wan" accept
    iifname "wan" oifname "lan" ct state established,related accept
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    iifname "lan" accept
    ct state established,related accept
  }
}
`
}

async function nftApply(ns: string, rules: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft in ${ns}: ${stderr}`))))
    child.stdin.end(rules)
  })
}
