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
export declare function usableBuild(root: string, why?: { reason?: string }): UsableBuild | null;
export declare function parentsOf(files: readonly string[]): string[];
