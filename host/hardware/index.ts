export { type LoadSample, LoadSampler } from './load-sampler.ts'
export { probeHardware } from './probe-hardware.ts'
