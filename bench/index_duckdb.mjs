// DuckDB side of ard's index benchmarks (bench/index-bench): the same questions answered by DuckDB
// straight from the Parquet files, with no sidecar index, in the same run.
//
//   node index_duckdb.mjs metadata DATASET THREADS     parquet_metadata() over every tile footer
//   node index_duckdb.mjs targetids DATASET THREADS    footers + every TARGETID (what `ard sync` reads)
//   node index_duckdb.mjs nosidecar DATASET THREADS    which files hold the spectra of Z > 2.5
//
// Timings go to stdout as `RESULT key=value ...` lines (wall clock around the query only).
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const duckdbDir = process.env.ARD_DUCKDB_DIR || path.join(here, '.duckdb');
const require = createRequire(path.join(duckdbDir, 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const q = (s) => "'" + String(s).replaceAll("'", "''") + "'";

const QUERIES = {
  metadata: (d) => `SELECT count(DISTINCT file_name), count(*)
      FROM parquet_metadata(${q(d + '/tiles/**/*.parquet')})`,
  targetids: (d) => `SELECT count(DISTINCT filename), count(TARGETID)
      FROM read_parquet(${q(d + '/tiles/**/*.parquet')}, filename = true)`,
  nosidecar: (d) => `SELECT count(DISTINCT t.filename), count(*)
      FROM read_parquet(${q(d + '/tiles/**/*.parquet')}, filename = true) t
      JOIN read_parquet(${q(d + '/catalog/*.parquet')}) c ON c.TARGETID = t.TARGETID
      WHERE c.Z > 2.5`,
};

const [cmd, dataset, threads] = process.argv.slice(2);
if (!QUERIES[cmd]) {
  console.error('usage: index_duckdb.mjs metadata|targetids|nosidecar DATASET THREADS');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const conn = await instance.connect();
const t0 = performance.now();
const reader = await conn.runAndReadAll(QUERIES[cmd](dataset));
const seconds = (performance.now() - t0) / 1000;
const row = reader.getRowsJS()[0];
console.log(`RESULT tool=duckdb bench=${cmd} files=${Number(row[0])} rows=${Number(row[1])} seconds=${seconds.toFixed(4)}`);
