// @osiris/container-fallback: functions of other runtimes (Python first) in
// warm containers on a Docker-compatible engine, behind the host's Executor seam.
export { ContainerExecutor } from './container-executor.ts'
export { DEFAULT_SOCKET, DockerClient, resolveSocketPath } from './docker-client.ts'
export { type BuildProgress, buildRuntimeImage } from './image-build.ts'
export { removeLeftovers } from './leftovers.ts'
export { type ContainerExecutorOptions, type ContainerLimits, DEFAULT_LIMITS } from './options.ts'
export { RUNTIMES, type RuntimeSpec, runtimeSpec } from './runtimes.ts'
