/**
 * What a V8 escape in one tenant's isolate run could reach, in each tenancy mode: the words of
 * `airlock check`'s tenants answer and of the README ("Tenants on one host"). An escape takes over
 * the worker process that held the run; the host still decides every tool call and fetch (for
 * the run that frame names, and only a run that worker holds), and the worker's OS sandbox
 * (own uid and cgroup, bubblewrap, seccomp, no network) still bounds the process.
 */

/** What is out of reach in both modes. */
const NEVER =
  "never host secrets (they stay on the host; egress attaches them), files (the worker's view is a read-only node, isolated-vm and airlock's isolate sources), " +
  'the network, the audit log or its key, other worker processes (other tenants, other cordons), nor a run its worker does not hold (the host refuses a frame that names one and kills the worker)';

/** A tenant in no cordon: its worker processes are its own. */
export function ownReach(): string {
  return `a V8 escape reaches only its own worker process: its own runs there (their code, input, results, output) and tool calls and fetches as those runs, with their authority; ${NEVER}`;
}

/** A tenant the host put in a cordon: its cordon-mates' runs share its worker processes. */
export function cordonReach(cordon: string, mates: number): string {
  return (
    `the host put it in trust cordon ${cordon} with ${mates} other tenant(s): their runs share its worker processes (each run still in a fresh isolate; ` +
    `without an escape a run sees nothing of another). A V8 escape reaches that worker's memory: the runs of its cordon-mates that worker holds ` +
    `(in flight now, or handed to it later, until the worker is retired): their code, input, results and output, and tool calls and fetches as those runs, ` +
    `with their authority, while they run; ${NEVER}`
  );
}
