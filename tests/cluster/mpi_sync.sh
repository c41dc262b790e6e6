#!/bin/bash
# `mpirun -n N ard sync`: the index (every table, row for row, file ids included) and the datasheet
# equal a one-process sync's for 2 and 3 ranks, first and incremental (a tile removed, one
# rewritten, one only touched, one corrupt: recorded in sync_errors, exit 1), over TCP too; each
# rank reads its own byte share (rank 1 given a copy of the dataset whose tiles are all corrupt
# fails exactly a contiguous tail of the tiles holding about half the bytes); every failing rank's
# error reaches rank 0 with its rank number.
source "$(dirname "$0")/mpi_env.bash"
mkdir -p "$W/one" "$W/n2" "$W/n3" "$W/t1" "$W/t3"
"$ARD" generate "$W/one/ds" --galaxies 400 --seed 11 --threads 2 --quiet || fail "generate"
TABLES="files row_groups column_stats spectra tile_pixel_stats galaxies catalog_summary
  catalog_zhist catalog_linkage sync_errors meta"
# rows DB SQL: the rows sorted, the copies' directories named alike (messages carry paths)
rows() { sqlite3 "$1" "$2" | sed "s|$W/[a-z0-9]*/ds|DATASET|g" | sort; }
# same_index A.db B.db RANKS: every table equal; sync_runs equal but for times and size
same_index() {
  for t in $TABLES; do
    cmp -s <(rows "$1" "SELECT * FROM $t") <(rows "$2" "SELECT * FROM $t") ||
      fail "$3 ranks: table $t differs"
  done
  local runs="id, ard_version, backend, rank, files_seen, files_added, files_changed,
    files_unchanged, files_removed, files_failed, spectra_rows, galaxy_rows, status"
  cmp -s <(sqlite3 "$1" "SELECT $runs FROM sync_runs ORDER BY id") \
    <(sqlite3 "$2" "SELECT $runs FROM sync_runs ORDER BY id") || fail "$3 ranks: sync_runs differ"
  [ "$(sqlite3 "$2" "SELECT size FROM sync_runs ORDER BY id DESC LIMIT 1")" = "$3" ] ||
    fail "$3 ranks: sync_runs.size is not $3"
}
for n in 2 3; do cp -a "$W/one/ds" "$W/n$n/ds"; done
# the datasheet equals but for the sync runs' history, which says how many ranks ran
sheet() { grep -v "^| [0-9]* | $("$ARD" --version | cut -d' ' -f2) |" "$1/DATA_README.md"; }
"$ARD" sync "$W/one/ds" --quiet > "$W/one.out" 2>&1 || { cat "$W/one.out"; fail "one-process sync"; }
tiles=$(sqlite3 "$W/one/ds/ard.db" "SELECT COUNT(*) FROM files WHERE kind = 'tile'")
[ "$tiles" -gt 100 ] || fail "only $tiles tiles: the comparison is too weak"
for n in 2 3; do
  timeout 300 $MPIRUN -n $n "$ARD" sync "$W/n$n/ds" --quiet > "$W/n$n.out" 2> "$W/n$n.err" ||
    { cat "$W/n$n.err"; fail "mpirun -n $n sync"; }
  [ "$(grep -c '^sync (sqlite' "$W/n$n.out")" = 1 ] || fail "$n ranks: the report was not printed once"
  same_index "$W/one/ds/ard.db" "$W/n$n/ds/ard.db" $n
  cmp -s <(sheet "$W/one/ds") <(sheet "$W/n$n/ds") || fail "$n ranks: the datasheet differs"
done
# incremental: the same changes in every copy (mtimes kept equal with touch -r)
for d in one n2 n3; do
  mapfile -t t < <(cd "$W/$d/ds" && find tiles -name '*.parquet' | sort)
  rm "$W/$d/ds/${t[3]}"
  cp -p "$W/$d/ds/${t[10]}" "$W/$d/ds/${t[20]}"
  touch -d '2020-01-01' "$W/$d/ds/${t[30]}"
  echo junk > "$W/$d/ds/${t[40]}"
  touch -d '2021-01-01' "$W/$d/ds/${t[40]}"
done
"$ARD" sync "$W/one/ds" --quiet > /dev/null 2>&1; [ $? = 1 ] || fail "one process: a corrupt tile must exit 1"
for n in 2 3; do
  timeout 300 $MPIRUN -n $n "$ARD" sync "$W/n$n/ds" --quiet > "$W/i$n.out" 2> "$W/i$n.err"; rc=$?
  [ $rc = 1 ] || { cat "$W/i$n.err"; fail "$n ranks incremental: exit $rc, expected 1 (a corrupt tile)"; }
  grep -q "1 file(s) skipped" "$W/i$n.err" || fail "$n ranks: no skipped-file note"
  same_index "$W/one/ds/ard.db" "$W/n$n/ds/ard.db" $n
done
[ "$(sqlite3 "$W/one/ds/ard.db" "SELECT COUNT(*) FROM sync_errors")" = 1 ] || fail "no sync error recorded"
# the network path: TCP only
for d in t1 t3; do cp -a "$W/n2/ds" "$W/$d/ds"; rm "$W/$d/ds/ard.db"; done
"$ARD" sync "$W/t1/ds" --quiet > /dev/null 2>&1
timeout 300 $MPIRUN --mca btl tcp,self -n 3 "$ARD" sync "$W/t3/ds" --quiet > /dev/null 2> "$W/tcp.err"
[ $? = 1 ] || { cat "$W/tcp.err"; fail "tcp: exit code"; }
same_index "$W/t1/ds/ard.db" "$W/t3/ds/ard.db" 3
# each rank reads its own byte share: rank 1 sees a copy whose tiles are all corrupt
mkdir -p "$W/a" "$W/b"
"$ARD" generate "$W/a/ds" --galaxies 200 --seed 12 --threads 2 --quiet || fail "generate a"
cp -a "$W/a/ds" "$W/b/ds"
find "$W/b/ds/tiles" -name '*.parquet' | while read -r f; do echo junk > "$f"; done
timeout 300 $MPIRUN -n 1 -wdir "$W/a" "$ARD" sync ds --quiet --no-datasheet : \
  -n 1 -wdir "$W/b" "$ARD" sync ds --quiet --no-datasheet > /dev/null 2>&1
db="$W/a/ds/ard.db"
ok=$(sqlite3 "$db" "SELECT COUNT(*) FROM files WHERE kind = 'tile'")
bad=$(sqlite3 "$db" "SELECT COUNT(*) FROM sync_errors")
[ "$ok" -gt 0 ] && [ "$bad" -gt 0 ] || fail "shares: $ok tiles indexed by rank 0, $bad failed on rank 1"
last_ok=$(sqlite3 "$db" "SELECT MAX(path) FROM files WHERE kind = 'tile'")
first_bad=$(sqlite3 "$db" "SELECT MIN(path) FROM sync_errors")
[[ "$last_ok" < "$first_bad" ]] || fail "shares are not contiguous: $last_ok vs $first_bad"
python3 - "$W/a/ds" "$db" <<'EOF' || fail "shares are not balanced by bytes"
import os, sqlite3, sys
root, db = sys.argv[1], sys.argv[2]
bad = {r[0] for r in sqlite3.connect(db).execute("SELECT path FROM sync_errors")}
sizes = {}
for d, _, fs in os.walk(os.path.join(root, "tiles")):
    for f in fs:
        p = os.path.join(d, f)
        sizes[os.path.relpath(p, root)] = os.path.getsize(p)
total, mine = sum(sizes.values()), sum(sizes[p] for p in bad)
assert abs(mine - total / 2) <= max(sizes.values()), (mine, total)
EOF
# every failing rank's error, on rank 0, with its rank (the dataset is missing everywhere)
err=$(timeout 120 $MPIRUN -n 2 "$ARD" sync "$W/missing" 2>&1); rc=$?
[ $rc = 1 ] || fail "missing dataset: exit $rc"
echo "$err" | grep -q "^ard: .*no dataset directory" || fail "missing dataset: $err"
echo "ok"
