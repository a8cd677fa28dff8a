/**
 * The key of ExecOptions' internal run id (launch.ts). Not exported from the package. A file of its
 * own so the runtime can name it without loading the container launcher.
 */
export const RUN_ID: unique symbol = Symbol('airlock.runId');
