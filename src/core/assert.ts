/** Exhaustiveness for closed unions (STYLE.md §4): a new member is a type error here. */
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
