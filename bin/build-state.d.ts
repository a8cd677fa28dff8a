/** Types of bin/build-state.js (plain JavaScript, so bin/airlock.js reads it without TypeScript). */
export declare const BUILD_DIR: string;
export declare const MANIFEST_VERSION: number;
export type Stamp = readonly string[];
export declare function stampOf(path: string): Stamp;
export interface UsableBuild {
  readonly dir: string;
  readonly main: string;
  readonly workerDir: string;
  readonly workerEntry: string;
}
/** The parts of the build, each checked against its own inputs and outputs. */
export type BuildPart = 'cli' | 'worker';
export declare function usableBuild(root: string, part: BuildPart, why?: { reason?: string }): UsableBuild | null;
export declare function parentsOf(files: readonly string[]): string[];
