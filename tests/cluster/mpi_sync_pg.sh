#!/bin/bash
# `mpirun -n N ard sync --db postgresql` on a throwaway PostgreSQL server: every rank writes its
# share in its own transactions, rank 0 completes the run; the index holds what a one-process sync
# writes (every table compared row for row with file ids replaced by paths: concurrent writers
# number files in commit order), first and incremental with a corrupt tile; the datasheet is written
# once. A server that cannot start FAILS (PostgreSQL is a required test component).
source "$(dirname "$0")/mpi_env.bash"
source "$(dirname "$0")/../common/pg_server.bash"
pg_server_start mpi-sync-pg
trap 'pg_server_stop; cleanup' EXIT
for db in one n3 n3p; do
  psql -q "$DSN" -c "CREATE DATABASE $db" >/dev/null || fail "CREATE DATABASE $db"
done
mkdir -p "$W/one" "$W/n3"
"$ARD" generate "$W/one/ds" --galaxies 300 --seed 13 --threads 2 --quiet || fail "generate"
cp -a "$W/one/ds" "$W/n3/ds"
# rows TAG SQL: the rows sorted, the copies' directories named alike
rows() { psql -At "host=$T user=ard dbname=$1" -c "$2" | sed "s|$W/[a-z0-9]*/ds|DATASET|g" | sort; }
F="JOIN files f ON f.id"
QUERIES=(
  "SELECT path, kind, size, mtime_ns, footer_hash, num_rows, num_row_groups, created_by,
     schema_fingerprint, grid FROM files"
  "SELECT f.path, r.row_group, r.num_rows, r.first_row, r.byte_offset, r.bytes, r.targetid_min,
     r.targetid_max FROM row_groups r $F = r.file_id"
  "SELECT f.path, c.row_group, c.column_name, c.num_values, c.null_count, c.min_value,
     c.max_value FROM column_stats c $F = c.file_id"
  "SELECT s.targetid, f.path, s.row_group, s.row_index FROM spectra s $F = s.file_id"
  "SELECT f.path, p.target_class, p.num_rows, p.pixels, p.flux_null, p.ivar_zero
     FROM tile_pixel_stats p $F = p.file_id"
  "SELECT f.path, g.targetid, g.z, g.spectype, g.target_class, g.flux_r FROM galaxies g
     $F = g.catalog_file_id"
  "SELECT f.path, c.target_class, c.spectype, c.num_rows, c.z_min, c.z_max
     FROM catalog_summary c $F = c.file_id"
  "SELECT * FROM catalog_linkage"
  "SELECT DISTINCT path, status, message FROM sync_errors"
  "SELECT key, value FROM meta")
same_index() { # same_index STEP
  for q in "${QUERIES[@]}"; do
    cmp -s <(rows one "$q") <(rows n3 "$q") || fail "$1: differs: $q"
  done
}
"$ARD" sync "$W/one/ds" --db "host=$T user=ard dbname=one" --quiet > "$W/one.out" 2>&1 ||
  { cat "$W/one.out"; fail "one-process sync"; }
timeout 300 $MPIRUN -n 3 "$ARD" sync "$W/n3/ds" --db "host=$T user=ard dbname=n3" --quiet > "$W/n3.out" \
  2> "$W/n3.err" || { cat "$W/n3.err"; fail "mpirun -n 3 sync (postgresql)"; }
[ "$(grep -c '^sync (postgresql' "$W/n3.out")" = 1 ] || fail "the report was not printed once"
[ "$(rows n3 "SELECT COUNT(*) FROM spectra")" = 300 ] || fail "not every spectrum indexed"
# every rank wrote its share in its own run: 3 partitioned runs + rank 0's completing run
[ "$(rows n3 "SELECT COUNT(*) FROM sync_runs WHERE size = 3")" = 3 ] || fail "not 3 rank runs"
same_index first
# each rank's share is a contiguous run of equal BYTES of the sorted file list (tiles and catalog
# split separately, an item to the share holding its byte midpoint): the files each rank's run
# added are those of the byte partition, every rank's tile bytes are within one file of a third,
# and (the tiles being of very unequal sizes, 22 KB to 366 KB) that is not the count partition
expect=$(cd "$W/n3/ds" && python3 - <<'PY'
import os
def shares(paths, size=3):
    b = [os.path.getsize(p) for p in paths]
    total, before, own = sum(b), 0, []
    for w in b:
        own.append(min(size - 1, (2 * before + w) * size // (2 * total) if total else 0))
        before += w
    return [[p for p, o in zip(paths, own) if o == r] for r in range(size)], b
def walk(d):
    return sorted(os.path.join(r, f)[len("./"):] if r.startswith("./") else os.path.join(r, f)
                  for r, _, fs in os.walk(d) for f in fs if f.endswith(".parquet"))
tiles, sizes = shares(walk("tiles"))
cats, _ = shares(walk("catalog"))
total, big = sum(sizes), max(sizes)
for r in range(3):
    mine = sum(os.path.getsize(p) for p in tiles[r])
    assert abs(mine - total / 3) <= big, (r, mine, total / 3, big)
n = len(sum(tiles, []))
by_count = [n // 3 + (r < n % 3) for r in range(3)]
assert by_count != [len(t) for t in tiles], "the tile sizes are too even for this test"
print(" ".join(f"{r}|{len(tiles[r]) + len(cats[r])}" for r in range(3)))
PY
) || fail "the byte partition check"
got=$(rows n3 "SELECT rank, files_added FROM sync_runs WHERE size = 3 ORDER BY rank" | tr '\n' ' ')
[ "${got% }" = "$expect" ] || fail "rank shares (rank|files) $got, expected the byte partition $expect"
[ -s "$W/n3/ds/DATA_README.md" ] || fail "no datasheet"
# progress: one counter on rank 0 (ARD_PROGRESS_LINES=0: a line per update), whose last line
# counts every rank's files; ranks 1 and 2 print nothing on stderr
cp -a "$W/one/ds" "$W/p3"
rm -f "$W/p3/DATA_README.md"
ARD_PROGRESS_LINES=0 timeout 300 $MPIRUN --tag-output -x ARD_PROGRESS_LINES -n 3 "$ARD" sync \
  "$W/p3" --db "host=$T user=ard dbname=n3p" > "$W/p3.out" 2>&1 || { cat "$W/p3.out"; fail "sync with progress"; }
nfiles=$(rows n3p "SELECT COUNT(*) FROM files")
last=$(sed -n 's/^\[[0-9]*,0\]<stderr>://p' "$W/p3.out" | grep -E "^sync: [0-9]+% " | tail -1)
echo "$last" | grep -q "^sync: 100% $nfiles/$nfiles " ||
  { cat "$W/p3.out"; fail "sync (postgresql): last progress line '$last', expected $nfiles/$nfiles"; }
! grep -qE "^\[[0-9]*,[12]\]<stderr>" "$W/p3.out" || { cat "$W/p3.out"; fail "rank 1 or 2 printed on stderr"; }
for d in one n3; do
  mapfile -t t < <(cd "$W/$d/ds" && find tiles -name '*.parquet' | sort)
  rm "$W/$d/ds/${t[2]}"
  echo junk > "$W/$d/ds/${t[9]}"
  touch -d '2021-01-01' "$W/$d/ds/${t[9]}"
done
"$ARD" sync "$W/one/ds" --db "host=$T user=ard dbname=one" --quiet > /dev/null 2>&1
timeout 300 $MPIRUN -n 3 "$ARD" sync "$W/n3/ds" --db "host=$T user=ard dbname=n3" --quiet > /dev/null \
  2> "$W/i3.err"; rc=$?
[ $rc = 1 ] || { cat "$W/i3.err"; fail "incremental: exit $rc, expected 1 (a corrupt tile)"; }
same_index incremental
# the corrupt tile failed in its rank's run and again in rank 0's completing run
[ "$(rows n3 "SELECT COUNT(DISTINCT run_id) FROM sync_errors")" = 2 ] || fail "sync_errors runs"
echo "ok"
