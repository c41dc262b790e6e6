// Reference figure for bench/generate-bench: DuckDB building a table of the same shape as ard's
// zcatalog (N rows: 21 columns of the same types, random values) and writing it to Parquet (zstd),
// fsynced like ard's files. argv: N OUT.parquet THREADS. Output: "duckdb-tT SECONDS BYTES".
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const duckdbDir = process.env.ARD_DUCKDB_DIR || path.join(here, '.duckdb');
const { DuckDBInstance } = createRequire(path.join(duckdbDir, 'package.json'))('@duckdb/node-api');

const [n, out, threads] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`SET threads = ${Number(threads)}`);
const t0 = process.hrtime.bigint();
await con.run(`COPY (SELECT 39000000000000000 + i AS TARGETID, random() * 360 AS TARGET_RA,
    random() * 120 - 30 AS TARGET_DEC, random() * 3 AS Z, random() * 1e-4 AS ZERR,
    (random() < 0.02)::BIGINT * 4 AS ZWARN, random() * 1000 AS DELTACHI2,
    CASE WHEN random() < 0.09 THEN 'QSO' ELSE 'GALAXY' END AS SPECTYPE, '' AS SUBTYPE,
    (random() * 49152)::INTEGER AS HEALPIX, 'main' AS SURVEY,
    CASE WHEN random() < 0.44 THEN 'bright' ELSE 'dark' END AS PROGRAM,
    (random() * 8)::BIGINT AS DESI_TARGET, (random() * 3)::BIGINT AS BGS_TARGET,
    random()::FLOAT * 100 AS FLUX_G, random()::FLOAT * 100 AS FLUX_R, random()::FLOAT * 100 AS FLUX_Z,
    random()::FLOAT * 0.1 AS EBV, 0::INTEGER AS COADD_FIBERSTATUS,
    ['BGS', 'LRG', 'ELG', 'QSO'][1 + (random() * 4)::INTEGER % 4] AS TARGET_CLASS,
    1::INTEGER AS HAS_SPECTRUM
  FROM range(${Number(n)}) t(i)) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
const fd = fs.openSync(out, 'r');
fs.fsyncSync(fd);
fs.closeSync(fd);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`duckdb-t${threads}\t${secs.toFixed(3)}\t${fs.statSync(out).size}`);
