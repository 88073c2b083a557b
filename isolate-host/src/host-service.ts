// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses here and nowhere else on the host side.
import { OsirisError, toServiceError, type HostServiceHandlers } from '@osiris/proto'
import type { Executor } from './executor.ts'

export function hostServiceHandlers(executors: readonly Executor[]): HostServiceHandlers {
  const forRuntime = (runtime: string): Executor => {
    const executor = executors.find((e) => e.runtimes.includes(runtime))
    if (!executor) throw new OsirisError('UNAVAILABLE', `this host does not run runtime "${runtime}"`)
    return executor
  }
  return {
    Validate: (call, callback) => {
      const { runtime, source, filename } = call.request
      Promise.resolve()
        .then(() => forRuntime(runtime).validate(runtime, source, filename))
        .then((response) => callback(null, response), (error: unknown) => callback(toServiceError(error)))
    },
    Invoke: (call, callback) => {
      const request = call.request
      Promise.resolve()
        .then(() => forRuntime(request.runtime).invoke(request))
        .then((response) => callback(null, response), (error: unknown) => callback(toServiceError(error)))
    },
  }
}
