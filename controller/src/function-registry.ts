// Deployed functions as the controller serves them: the store is the truth,
// and an in-memory map of it answers the call path without touching disk.
import { OsirisError } from '@osiris/proto'
import type { DeployOutcome, FunctionRecord, NewDeployment, RegistryStore } from './store/store.ts'

export class FunctionRegistry {
  readonly store: RegistryStore
  readonly #byName = new Map<string, FunctionRecord>()

  private constructor(store: RegistryStore) {
    this.store = store
  }

  static async load(store: RegistryStore): Promise<FunctionRegistry> {
    const registry = new FunctionRegistry(store)
    for (const record of await store.listFunctions()) registry.#byName.set(record.name, record)
    return registry
  }

  /** The current version of `name`; NOT_FOUND when nothing by that name is deployed. */
  get(name: string): FunctionRecord {
    const record = this.#byName.get(name)
    if (!record) throw new OsirisError('NOT_FOUND', `function "${name}" is not deployed`)
    return record
  }

  has(name: string): boolean {
    return this.#byName.has(name)
  }

  list(): FunctionRecord[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  async deploy(deployment: NewDeployment): Promise<DeployOutcome> {
    const outcome = await this.store.deploy(deployment)
    for (const name of outcome.removed) this.#byName.delete(name)
    for (const record of outcome.functions) this.#byName.set(record.name, record)
    return outcome
  }

  async remove(name: string): Promise<FunctionRecord> {
    const removed = await this.store.deleteFunction(name)
    this.#byName.delete(name)
    if (!removed) throw new OsirisError('NOT_FOUND', `function "${name}" is not deployed`)
    return removed
  }

  /** Whether any function of `module` is still deployed. */
  hasModule(module: string): boolean {
    for (const record of this.#byName.values()) if (record.module === module) return true
    return false
  }
}
