/**
 * SIGTERM and SIGINT while a command holds an airlock (a service manager stopping it, Ctrl-C).
 * The first one closes the airlock: whatever runs is stopped, recorded in the audit log as
 * stopped (STOPPED_BY_HOST) and cleaned up, and the command then ends as it would have, printing
 * that result with its exit code. Closing takes milliseconds (a kill, a teardown, one flush), so a
 * second signal does not cut it short: it would leave what the first one is cleaning up. SIGKILL
 * still ends the process at once; the next start's reaper then clears what was left.
 *
 * @example
 *   const { value: result, signal } = await closingOnSignals(airlock, () => airlock.run(request));
 */
import { AirlockError, toAirlockError } from '../core/errors.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export async function closingOnSignals<T>(airlock: { close(): Promise<void> }, work: () => Promise<T>): Promise<{ readonly value: T; readonly signal: NodeJS.Signals | null }> {
  const got: { signal: NodeJS.Signals | null } = { signal: null };
  const onSignal = (signal: NodeJS.Signals): void => {
    got.signal ??= signal;
    process.stderr.write(`airlock: ${signal}: stopping what runs and recording it\n`);
    void airlock.close().catch(() => undefined);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    const value = await work();
    return { value, signal: got.signal };
  } catch (error) {
    // What failed after the signal failed because airlock was closing: say that, not the symptom.
    if (got.signal === null) throw error;
    throw stopped(got.signal, `(it ended with ${toAirlockError(error, 'INTERNAL').code})`);
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

/**
 * The same, for a command whose output a signal makes meaningless (a report from cut-short
 * probes, a half-shown demo): it rejects STOPPED_BY_HOST when a signal came, whatever the work returned.
 */
export async function failingOnSignals<T>(airlock: { close(): Promise<void> }, what: string, work: () => Promise<T>): Promise<T> {
  const { value, signal } = await closingOnSignals(airlock, work);
  if (signal !== null) throw stopped(signal, `: ${what} was cut short, so it is not printed`);
  return value;
}

function stopped(signal: NodeJS.Signals, why: string): AirlockError {
  return new AirlockError('STOPPED_BY_HOST', `stopped by ${signal} ${why}; what ran was stopped and recorded: run it again`);
}
