// Reference figures for bench/parquet-write: DuckDB's COPY ... TO parquet of the same spectra.
// argv: SOURCE.parquet OUTDIR REPEAT. Loads the spectra into an in-memory table first (not timed),
// then times COPY for each codec at threads=1 (ard's writer is single-threaded) and at the default.
// Output lines: "duckdb-tN CODEC SECONDS FILE_BYTES".
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const duckdbDir = process.env.ARD_DUCKDB_DIR || path.join(here, '.duckdb');
const { DuckDBInstance } = createRequire(path.join(duckdbDir, 'package.json'))('@duckdb/node-api');

const [src, out, rep] = process.argv.slice(2);
const repeat = Number(rep || 3);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${src}')`);
const [[threads]] = (await con.runAndReadAll(`SELECT current_setting('threads')`)).getRowsJS();
for (const t of [1, Number(threads)]) {
  await con.run(`SET threads = ${t}`);
  // brotli left out: DuckDB's brotli writer took 234 s for 5,000 spectra here (ard: 1.1 s)
  for (const codec of ['uncompressed', 'snappy', 'zstd', 'lz4_raw', 'gzip']) {
    const path = `${out}/duckdb_${codec}.parquet`;
    let best = Infinity;
    for (let i = 0; i < repeat; i++) {
      const t0 = process.hrtime.bigint();
      await con.run(`COPY t TO '${path}' (FORMAT parquet, COMPRESSION ${codec})`);
      // same durability as ard (which fsyncs before its rename): flush the file to disk
      const fd = fs.openSync(path, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(`duckdb-t${t}\t${codec}\t${best.toFixed(3)}\t${fs.statSync(path).size}`);
  }
}
