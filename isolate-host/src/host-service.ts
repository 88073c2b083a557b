// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
import { type HostServiceHandlers, handleUnary, OsirisError } from '@osiris/proto'
import type { Executor } from './executor.ts'

export function hostServiceHandlers(executors: readonly Executor[]): HostServiceHandlers {
  const forRuntime = (runtime: string): Executor => {
    const executor = executors.find((e) => e.runtimes.includes(runtime))
    if (!executor) throw new OsirisError('UNAVAILABLE', `this host does not run runtime "${runtime}"`)
    return executor
  }
  return {
    Validate: handleUnary(({ request }) =>
      forRuntime(request.runtime).validate(request.runtime, request.source, request.filename),
    ),
    Invoke: handleUnary(({ request }) => forRuntime(request.runtime).invoke(request)),
  }
}
