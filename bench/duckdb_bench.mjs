// DuckDB side of ard's Parquet benchmarks: writes the benchmark files and times DuckDB's reads of them,
// so ard's figures always stand next to a reference reader measured on the same files in the same run.
// Run through bench/parquet-footers and bench/parquet-decode; needs bench/duckdb-setup first.
//
//   node duckdb_bench.mjs gen-tiles DIR COUNT ROWS WIDTH
//   node duckdb_bench.mjs gen-spectra DIR ROWS WIDTH ROW_GROUP_SIZE
//   node duckdb_bench.mjs footers DIR THREADS REPS WARMUP(0|1) QUERY(metadata|file_metadata)
//   node duckdb_bench.mjs decode FILE THREADS REPS QUERY(notnull|list_sum)
//
// Timings go to stdout as `RESULT key=value ...` lines (seconds, wall clock around the query only).
import { createRequire } from 'module';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const duckdbDir = process.env.ARD_DUCKDB_DIR || path.join(here, '.duckdb');
const require = createRequire(path.join(duckdbDir, 'package.json'));
const { DuckDBInstance, version } = require('@duckdb/node-api');

function sqlString(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

async function connect(threads) {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  return { instance, conn: await instance.connect() };
}

async function scalarRow(conn, sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowsJS()[0];
}

function result(fields) {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${v}`);
  console.log('RESULT ' + parts.join(' '));
}

// One in-memory tile body (per-row lists), then one COPY per tile over two connections:
// each tile differs in TARGETID (sorted) and key-value metadata, which is what the footers hold.
async function genTiles(dir, count, rows, width) {
  const { instance, conn } = await connect(2);
  await conn.run(`CREATE TABLE body AS SELECT r,
      list_transform(range(${width}), j -> ((hash(r, j) % 64)::FLOAT * 0.25 - 2.0)::FLOAT) AS FLUX,
      list_transform(range(${width}), j -> ((hash(j, r) % 16)::FLOAT + 0.5)::FLOAT) AS IVAR,
      list_transform(range(${width}), j -> (CASE WHEN hash(r, j, 1) % 50 = 0 THEN 1 ELSE 0 END)::UTINYINT)
        AS MASK
    FROM range(${rows}) t(r)`);
  const workers = [conn, await instance.connect()]; // two writers share the body table
  const t0 = performance.now();
  await Promise.all(workers.map(async (c, w) => {
    for (let i = w; i < count; i += workers.length) {
      const file = path.join(dir, `tile-${String(i).padStart(5, '0')}.parquet`);
      await c.run(`COPY (SELECT (39627000000000000 + ${i}::BIGINT * 100000 + r * 7)::BIGINT AS TARGETID,
            FLUX, IVAR, MASK FROM body ORDER BY r)
          TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd,
            KV_METADATA {TILEID: '${1000 + i}', SURVEY: 'main', PROGRAM: 'dark'})`);
    }
  }));
  console.error(`duckdb: wrote ${count} tiles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function genSpectra(dir, rows, width, rowGroupSize) {
  const { conn } = await connect(2);
  const t0 = performance.now();
  // A smooth continuum plus full-entropy noise: like real flux, the low mantissa bits barely compress.
  await conn.run(`CREATE TABLE spectra AS SELECT
      (39627000000000000 + r)::BIGINT AS TARGETID,
      list_transform(range(${width}), j ->
        (10.0 + 3.0 * sin(j / 300.0 + r) + ((hash(r, j) % 1000003)::DOUBLE / 1000003.0 - 0.5))::FLOAT) AS FLUX
    FROM range(${rows}) t(r) ORDER BY r`);
  for (const codec of ['uncompressed', 'snappy', 'zstd']) {
    const file = path.join(dir, `spectra-${codec}.parquet`);
    await conn.run(`COPY spectra TO ${sqlString(file)}
        (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupSize})`);
  }
  console.error(`duckdb: wrote spectra files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const FOOTER_QUERIES = {
  // Every column chunk of every file, with its statistics: the same walk ard does.
  metadata: (glob) => `SELECT count(DISTINCT file_name) AS files, count(*) AS chunks, sum(num_values) AS vals,
      sum(total_compressed_size) AS bytes, max(stats_max_value) AS maxv
    FROM parquet_metadata(${sqlString(glob)})`,
  file_metadata: (glob) => `SELECT count(*) AS files, sum(num_rows) AS rows, sum(num_row_groups) AS rgs
    FROM parquet_file_metadata(${sqlString(glob)})`,
};

async function footers(dir, threads, reps, warmup, query) {
  const { conn } = await connect(threads);
  const sql = FOOTER_QUERIES[query](path.join(dir, '*.parquet'));
  if (warmup) await scalarRow(conn, sql);
  for (let run = 0; run < reps; run++) {
    const t0 = performance.now();
    const row = await scalarRow(conn, sql);
    const seconds = (performance.now() - t0) / 1000;
    result({ tool: 'duckdb', bench: 'footers', query, mode: warmup ? 'warm' : 'cold', threads, run,
             files: Number(row[0]), seconds: seconds.toFixed(6), check: Number(row[1]) });
  }
}

const DECODE_QUERIES = {
  // Materialises every list (DuckDB reads all child floats to build the list vectors), no arithmetic.
  notnull: (f) => `SELECT count(*) FROM read_parquet(${sqlString(f)}) WHERE FLUX IS NOT NULL`,
  // Touches every float value explicitly.
  list_sum: (f) => `SELECT sum(list_sum(FLUX)) FROM read_parquet(${sqlString(f)})`,
};

async function decode(file, threads, reps, query) {
  const { conn } = await connect(threads);
  const sql = DECODE_QUERIES[query](file);
  await scalarRow(conn, sql); // warm: file in the page cache and DuckDB's caches primed
  for (let run = 0; run < reps; run++) {
    const c0 = process.cpuUsage(); // every thread of the process, DuckDB's workers included
    const t0 = performance.now();
    const row = await scalarRow(conn, sql);
    const seconds = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    result({ tool: 'duckdb', bench: 'decode', query, file: path.basename(file), threads, run,
             seconds: seconds.toFixed(6), cpu_seconds: ((c1.user + c1.system) / 1e6).toFixed(6),
             check: Number(row[0]) });
  }
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === 'version') console.log(version());
  else if (cmd === 'gen-tiles') await genTiles(a[0], +a[1], +a[2], +a[3]);
  else if (cmd === 'gen-spectra') await genSpectra(a[0], +a[1], +a[2], +a[3]);
  else if (cmd === 'footers') await footers(a[0], +a[1], +a[2], a[3] === '1', a[4]);
  else if (cmd === 'decode') await decode(a[0], +a[1], +a[2], a[3]);
  else {
    console.error('usage: duckdb_bench.mjs version|gen-tiles|gen-spectra|footers|decode ...');
    process.exit(2);
  }
}

await main();
