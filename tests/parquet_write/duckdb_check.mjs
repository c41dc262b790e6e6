// DuckDB interop check for ard's Parquet writer (run by duckdb_interop.sh from tests/.duckdb/).
// argv[2] = directory written by test_parquet_write_gen (+ converted copies from `ard parquet convert`).
// Checks that DuckDB returns exactly the values the generator recorded (types_*.jsonl), the spectra
// formulas, and that parquet_metadata() reports the statistics recomputed here from those values.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'fs';
import path from 'path';

const dir = process.argv[2];
let failures = 0;
let checks = 0;
function fail(msg) {
  failures++;
  if (failures <= 40) console.error('FAIL: ' + msg);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
async function rows(sql) {
  return (await con.runAndReadAll(sql)).getRowsJS();
}
const q = (s) => "'" + s.replaceAll("'", "''") + "'";

function f32hex(x) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return b.readUInt32LE(0).toString(16).padStart(8, '0');
}
function f64hex(x) {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.readBigUInt64LE(0).toString(16).padStart(16, '0');
}
function hexToF32(h) {
  return Buffer.from(h.match(/../g).reverse().join(''), 'hex').readFloatLE(0);
}
function hexToF64(h) {
  return Buffer.from(h.match(/../g).reverse().join(''), 'hex').readDoubleLE(0);
}

function sameScalar(kind, got, exp) {
  if (exp === null) return got === null;
  if (got === null || got === undefined) return false;
  switch (kind) {
    case 'bool': return got === exp;
    case 'int': case 'ts': return BigInt(got) === BigInt(exp);
    case 'f32': {
      const e = hexToF32(exp);
      return Number.isNaN(e) ? Number.isNaN(got) : f32hex(got) === exp;
    }
    case 'f64': {
      const e = hexToF64(exp);
      return Number.isNaN(e) ? Number.isNaN(got) : f64hex(got) === exp;
    }
    case 'str': return Buffer.from(got, 'utf8').toString('hex') === exp;
    case 'blob': return Buffer.from(got).toString('hex') === exp;
  }
  return false;
}

function sameValue(col, got, exp) {
  if (!col.list || exp === null) return sameScalar(col.kind, got, exp);
  if (!Array.isArray(got) || got.length !== exp.length) return false;
  return exp.every((e, i) => sameScalar(col.kind, got[i], e));
}

// Expected statistics of one column over rows [a, b): null count (levels without a value),
// min and max of the non-NaN values as comparable JS values.
function expectStats(col, ci, data, a, b) {
  let nulls = 0n, lo = null, hi = null;
  const vals = [];
  for (let r = a; r < b; r++) {
    const v = data[r][ci];
    if (v === null) { nulls++; continue; }
    if (!col.list) { vals.push(v); continue; }
    if (v.length === 0) nulls++;
    for (const e of v) { if (e === null) nulls++; else vals.push(e); }
  }
  for (const h of vals) {
    let x;
    if (col.kind === 'int') x = BigInt(h);
    else if (col.kind === 'f32') x = hexToF32(h);
    else if (col.kind === 'f64') x = hexToF64(h);
    else if (col.kind === 'str') x = Buffer.from(h, 'hex');
    else if (col.kind === 'bool') x = h ? 1 : 0;
    else continue;
    if (typeof x === 'number' && Number.isNaN(x)) continue;
    const lt = (p, q2) => (Buffer.isBuffer(p) ? Buffer.compare(p, q2) < 0 : p < q2);
    if (lo === null || lt(x, lo)) lo = x;
    if (hi === null || lt(hi, x)) hi = x;
  }
  const float = col.kind === 'f32' || col.kind === 'f64';
  if (float && lo === 0) lo = -0; // the Parquet rule: a zero min is -0.0, a zero max +0.0
  if (float && hi === 0) hi = 0;
  return { nulls, lo, hi };
}

function parseStat(kind, s) {
  if (kind === 'int') return BigInt(s);
  if (kind === 'bool') return s === 'true' ? 1 : 0;
  if (kind === 'str') return Buffer.from(s, 'utf8');
  const t = s.toLowerCase();
  const x = t === 'inf' || t === 'infinity' ? Infinity
    : t === '-inf' || t === '-infinity' ? -Infinity : parseFloat(s);
  return kind === 'f32' ? Math.fround(x) : x;
}

function sameStat(kind, got, exp) {
  if (kind === 'ts' || kind === 'blob') return true; // rendered by DuckDB as dates / escapes
  // DuckDB shows no min/max when a bound is infinite (its own files carry none either)
  if (exp === Infinity || exp === -Infinity) return got === null || parseStat(kind, got) === exp;
  if (exp === null) return got === null;
  if (got === null) return false;
  const g = parseStat(kind, got);
  if (Buffer.isBuffer(g)) return Buffer.compare(g, exp) === 0;
  return typeof g === 'number' ? Object.is(g, exp) : g === exp;
}

async function checkStats(file, cols, data, rgRows) {
  const meta = await rows(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value,
      stats_null_count FROM parquet_metadata(${q(file)})`);
  const seen = new Set();
  for (const [rg, p, mn, mx, nc] of meta) {
    const name = String(p).split(',')[0].trim();
    const ci = cols.findIndex((c) => c.name === name);
    const col = cols[ci];
    const rgi = Number(rg);
    const x = expectStats(col, ci, data, rgi * rgRows, Math.min(data.length, (rgi + 1) * rgRows));
    seen.add(rgi);
    checks++;
    if (nc === null || BigInt(nc) !== x.nulls) fail(`${file} rg ${rg} ${name}: null_count ${nc}, expected ${x.nulls}`);
    if (!sameStat(col.kind, mn, x.lo) || !sameStat(col.kind, mx, x.hi)) {
      fail(`${file} rg ${rg} ${name}: min/max ${mn}/${mx}, expected ${x.lo}/${x.hi}`);
    }
  }
  if (seen.size !== Math.ceil(data.length / rgRows)) fail(`${file}: ${seen.size} row groups in metadata`);
}

async function checkTypes(file) {
  const lines = fs.readFileSync(file.replace(/\.parquet$/, '.jsonl'), 'utf8').trim().split('\n');
  const head = JSON.parse(lines[0]);
  const data = lines.slice(1).map((l) => JSON.parse(l));
  const cols = head.columns;
  const sel = cols.map((c) => (c.kind === 'ts' ? `epoch_us("${c.name}")` : `"${c.name}"`)).join(', ');
  const got = await rows(`SELECT ${sel} FROM read_parquet(${q(file)})`);
  if (got.length !== head.rows) fail(`${file}: ${got.length} rows, expected ${head.rows}`);
  for (let r = 0; r < Math.min(got.length, data.length); r++) {
    for (let c = 0; c < cols.length; c++) {
      checks++;
      if (!sameValue(cols[c], got[r][c], data[r][c])) {
        fail(`${path.basename(file)} row ${r} col ${cols[c].name}: got ${JSON.stringify(got[r][c], (k, v) => (typeof v === 'bigint' ? v.toString() : v))} expected ${JSON.stringify(data[r][c])}`);
        break;
      }
    }
  }
  await checkStats(file, cols, data, head.rg_rows);
}

async function checkSpectra(file) {
  const W = 4096;
  const got = await rows(`SELECT TARGETID, FLUX, IVAR, MASK FROM read_parquet(${q(file)})`);
  if (got.length !== 400) fail(`${file}: ${got.length} spectra`);
  for (let r = 0; r < got.length; r++) {
    const [id, flux, ivar, mask] = got[r];
    checks++;
    if (BigInt(id) !== BigInt(1000 + 3 * r)) { fail(`${file} row ${r}: TARGETID ${id}`); break; }
    if (flux.length !== W || ivar.length !== W || mask.length !== W) { fail(`${file} row ${r}: widths`); break; }
    for (let j = 0; j < W; j++) {
      const v = Math.fround(((r * W + j) % 1000) * 0.25 - 7);
      const fv = (r * 7 + j) % 97 === 0 ? null : v;
      if (!Object.is(flux[j], fv) || !Object.is(ivar[j], v) || mask[j] !== (r + j) % 3) {
        fail(`${file} row ${r} pixel ${j}: ${flux[j]} ${ivar[j]} ${mask[j]}`);
        return;
      }
    }
  }
  const meta = await rows(`SELECT row_group_id, stats_null_count, stats_min_value, stats_max_value
      FROM parquet_metadata(${q(file)}) WHERE path_in_schema LIKE 'FLUX%'`);
  if (meta.length < 10) fail(`${file}: ${meta.length} row groups, want 10 or more`);
  for (const [rg, nc, mn, mx] of meta) {
    let nulls = 0, lo = Infinity, hi = -Infinity;
    for (let r = Number(rg) * 32; r < Math.min(400, (Number(rg) + 1) * 32); r++) {
      for (let j = 0; j < W; j++) {
        if ((r * 7 + j) % 97 === 0) { nulls++; continue; }
        const v = Math.fround(((r * W + j) % 1000) * 0.25 - 7);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    checks++;
    if (Number(nc) !== nulls || parseFloat(mn) !== lo || parseFloat(mx) !== hi) {
      fail(`${file} rg ${rg}: FLUX stats ${nc} ${mn} ${mx}, expected ${nulls} ${lo} ${hi}`);
    }
  }
  const kv = await rows(`SELECT decode(value) FROM parquet_kv_metadata(${q(file)}) WHERE decode(key) = 'ard.grid'`);
  if (kv.length !== 1 || !String(kv[0][0]).includes('4096')) fail(`${file}: ard.grid metadata missing`);
}

async function checkConverted(orig, conv) {
  const [[a]] = await rows(`SELECT count(*) FROM read_parquet(${q(orig)})`);
  const [[b]] = await rows(`SELECT count(*) FROM read_parquet(${q(conv)})`);
  const [[d1]] = await rows(`SELECT count(*) FROM (SELECT * FROM read_parquet(${q(orig)}) EXCEPT ALL SELECT * FROM read_parquet(${q(conv)}))`);
  const [[d2]] = await rows(`SELECT count(*) FROM (SELECT * FROM read_parquet(${q(conv)}) EXCEPT ALL SELECT * FROM read_parquet(${q(orig)}))`);
  checks++;
  if (a !== b || d1 !== 0n || d2 !== 0n) fail(`convert ${conv}: rows ${a}/${b}, differences ${d1}/${d2}`);
}

const files = fs.readdirSync(dir).sort();
let ntypes = 0, nspectra = 0, nconv = 0;
for (const f of files) {
  const full = path.join(dir, f);
  if (f.startsWith('types_') && f.endsWith('.parquet')) { await checkTypes(full); ntypes++; }
  if (f.startsWith('spectra_') && f.endsWith('.parquet')) { await checkSpectra(full); nspectra++; }
  if (f.startsWith('converted_') && f.endsWith('.parquet')) {
    await checkConverted(path.join(dir, f.replace(/^converted_[a-z0-9]+_/, '')), full);
    nconv++;
  }
}
if (ntypes < 48 || nspectra < 3 || nconv < 5) fail(`expected files missing (${ntypes} types, ${nspectra} spectra, ${nconv} converted)`);
console.log(`duckdb interop: ${ntypes} type files, ${nspectra} spectra files, ${nconv} converted, ${checks} checks, ${failures} failures`);
process.exit(failures ? 1 : 0);
