// The one function every scenario runs, addNumbers(3, 5), as module source
// (for Osiris, workerd) and as a script that evaluates to the call's result
// (for isolated-vm, node:vm, workers and child processes). `salt` makes each
// function's text distinct, so no scenario can reuse a compiled copy.
export function moduleSource(salt: number | string): string {
  return `export function addNumbers(a, b) { return a + b } // ${salt}\n`
}

export function scriptSource(salt: number | string): string {
  return `function addNumbers(a, b) { return a + b } // ${salt}\naddNumbers(3, 5)`
}

export function checkEight(value: unknown, where: string): void {
  if (value !== 8 && value !== '8') throw new Error(`${where}: addNumbers(3, 5) gave ${String(value)}`)
}
