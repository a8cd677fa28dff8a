/** How a run ended: one of seven words, shared by the error table and the result (no imports, so neither imports the other). */
export const RUN_STATUSES = ['ok', 'error', 'timeout', 'memory', 'killed', 'denied', 'invalid'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
