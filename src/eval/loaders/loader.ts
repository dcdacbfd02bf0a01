/**
 * What a benchmark loader is: which files of a downloaded copy it reads, and how one row of
 * those files becomes an `EvalRecord`.
 *
 * @module
 */
import type { Result } from "effect";
import type { BenchmarkRecordInvalid } from "../errors.ts";
import type { EvalRecord } from "../record.ts";
import type { Row } from "../tables.ts";
import type { RowLocation } from "./fields.ts";

/** A benchmark's published layout. */
export interface BenchmarkLoader {
  /** Name used on the command line, e.g. `cv-bench`. */
  readonly name: string;
  /** Where the data is published and which files to download. */
  readonly source: string;
  /**
   * From the paths of every file under the folder the user gave (relative, `/`-separated), the
   * ones this benchmark's records live in, in reading order.
   */
  readonly selectFiles: (paths: ReadonlyArray<string>) => ReadonlyArray<string>;
  /** One row of a selected file as a record. */
  readonly toRecord: (
    row: Row,
    at: RowLocation,
  ) => Result.Result<EvalRecord, BenchmarkRecordInvalid>;
}

/** The paths matching `pattern`, sorted so reading order does not depend on the file system. */
export const matching = (paths: ReadonlyArray<string>, pattern: RegExp): Array<string> =>
  paths.filter((p) => pattern.test(p)).sort();
