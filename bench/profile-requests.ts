/**
 * Where a one-token request's CPU goes, by function: the request-cost bench's two daemons, each
 * started with the inspector on, and the V8 sampling profiler running in both over the warm load;
 * the top functions by self time and Ripple's own by inclusive time are printed per daemon, with its
 * CPU per request. PROFILE_PEERS=1 profiles one peer holding the model and asked directly (the
 * request-rate bench's path); PROFILE_CPU=0 runs no profiler, for the CPU per request alone (A/B runs:
 * the profiler costs both sides CPU of its own); PROFILE_SYSCALLS=1 counts each daemon's system calls
 * over the load with strace (`strace -c`); PROFILE_WARM_UP sets the requests before the load (2,500),
 * PROFILE_AT_ONCE how many at once (8).
 * Not a benchmark `npm run bench` runs: `npx tsx bench/profile-requests.ts [requests] [top]`.
 */
import { printTop } from './cpu-profile.ts'
import { measureRequestCost } from './request-cost.ts'
import { perRequest } from './syscall-counts.ts'

const requests = Number(process.argv[2] ?? 3000)
const top = Number(process.argv[3] ?? 15)
const cost = await measureRequestCost({
  requests,
  warmUp: Number(process.env.PROFILE_WARM_UP ?? 2500),
  atOnce: Number(process.env.PROFILE_AT_ONCE ?? 8),
  onePeer: process.env.PROFILE_PEERS === '1',
  profile: process.env.PROFILE_CPU !== '0',
  trace: process.env.PROFILE_SYSCALLS === '1',
})
console.log(
  `${requests} one-token requests, ${process.env.PROFILE_AT_ONCE ?? 8} at once, warm: ${cost.rps}/s (cold: ${cost.coldRps}/s)`,
)
console.log(`the runner's engine (llama-server): ${cost.engine} ms CPU/request`)
for (const r of cost.roles) {
  const line =
    `${r.role}: ${r.warm} ms CPU/request (/proc), ${r.warmLessIdle} less idle (main thread ${r.mainThread}, ` +
    `V8's helper threads ${r.helperThreads}); cold, its first requests: ${r.coldLessIdle} less idle`
  if (r.profile) printTop(`${line}; per request`, r.profile, requests, top)
  else console.log(line)
  if (r.syscalls) console.log(`system calls per request:\n${perRequest(r.syscalls, requests)}`)
}
