#!/bin/bash
# Reports and errors under mpirun, per distributed stage (sync, fetch, fof, anomaly score,
# cosmicweb predict, datasheet; stream serve's failure), with 3 ranks and --tag-output (every line says which rank wrote
# it):
#   - a run that succeeds prints its report once, from rank 0; ranks 1 and 2 print nothing;
#   - when only rank 2's input is bad (MPMD: rank 2 runs in a copy of the dataset that lost the
#     model, the index, or whose tiles are corrupt), the job exits 1, rank 0 prints that error
#     prefixed "rank 2: ", no other rank prints an error and no report is printed;
#   - progress: with ARD_PROGRESS_LINES=0 (a plain line per update when stderr is not a terminal,
#     as under mpirun) only rank 0 prints progress lines, and the last line of a distributed
#     stage counts every rank's work (sync: every file; anomaly score: all 300 spectra).
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" anomaly train "$W/ds" --epochs 1 --run m1 --quiet > /dev/null 2>&1 || fail "anomaly train"
"$ARD" cosmicweb train "$W/ds" --epochs 1 --k 16 --fanout1 4 --fanout2 2 --hidden 8 \
  --run-id cw --threads 2 > /dev/null 2>&1 || fail "cosmicweb train"
TAG="$MPIRUN --tag-output"
# lines of rank R on stream S (stdout|stderr), the tag removed
of_rank() { sed -n "s/^\[[0-9]*,$1\]<$2>://p" "$3"; }
# ok_once NAME PATTERN ARGS...: the stage succeeds on 3 ranks; its report (a stdout or stderr
# line matching PATTERN) comes from rank 0 exactly once, and ranks 1 and 2 print nothing at all
ok_once() {
  local name=$1 pattern=$2
  shift 2
  (cd "$W" && timeout 300 $TAG -n 3 "$ARD" "$@" > "$W/$name.ok" 2>&1) ||
    { cat "$W/$name.ok"; fail "$name: mpirun -n 3 failed"; }
  [ "$(cat <(of_rank 0 stdout "$W/$name.ok") <(of_rank 0 stderr "$W/$name.ok") |
    grep -c "$pattern")" = 1 ] || { cat "$W/$name.ok"; fail "$name: rank 0 did not print '$pattern' once"; }
  for r in 1 2; do
    [ -z "$(of_rank $r stdout "$W/$name.ok")$(of_rank $r stderr "$W/$name.ok")" ] ||
      { cat "$W/$name.ok"; fail "$name: rank $r printed something"; }
  done
}
# rank2_bad NAME PATTERN REPORT ARGS...: ranks 0 and 1 run in $W/good, rank 2 in $W/bad (prepared
# by the caller); exit 1, rank 0 prints "ard: rank 2: ..." matching PATTERN, nobody else prints
# an error, and REPORT (the success report) is not printed
rank2_bad() {
  local name=$1 pattern=$2 report=$3
  shift 3
  timeout 300 $TAG -n 2 -wdir "$W/good" "$ARD" "$@" : -n 1 -wdir "$W/bad" "$ARD" "$@" \
    > "$W/$name.bad" 2>&1
  local rc=$?
  [ $rc = 1 ] || { cat "$W/$name.bad"; fail "$name: exit $rc with rank 2's input bad, expected 1"; }
  of_rank 0 stderr "$W/$name.bad" | grep -q "^ard: rank 2: .*$pattern" ||
    { cat "$W/$name.bad"; fail "$name: rank 0 did not report rank 2's error"; }
  ! of_rank 0 stderr "$W/$name.bad" | grep -q "rank [01]: " ||
    { cat "$W/$name.bad"; fail "$name: a healthy rank was reported as failing"; }
  for r in 1 2; do
    ! of_rank $r stderr "$W/$name.bad" | grep -q "^ard: " ||
      { cat "$W/$name.bad"; fail "$name: rank $r printed an error itself"; }
  done
  ! grep -q "$report" "$W/$name.bad" || { cat "$W/$name.bad"; fail "$name: a report was printed"; }
}
fresh() { # fresh: $W/good and $W/bad as copies of $W/ds
  rm -rf "$W/good" "$W/bad"
  mkdir -p "$W/good" "$W/bad"
  cp -a "$W/ds" "$W/good/ds"
  cp -a "$W/ds" "$W/bad/ds"
}

# ---- anomaly score: rank 2's copy has no model
ok_once score "^anomaly score: run s3" anomaly score ds --model m1 --run s3 --quiet
fresh
rm "$W/bad/ds/models/anomaly-m1.safetensors"
rank2_bad score "m1" "^anomaly score: run" anomaly score ds --model m1 --run b1 --quiet

# ---- cosmicweb predict: rank 2's copy has no model
ok_once predict "^cosmicweb predict: run p3" cosmicweb predict ds --model cw --run-id p3 --threads 1
fresh
rm "$W/bad/ds/models/"cosmicweb-cw*
rank2_bad predict "cw" "^cosmicweb predict: run" cosmicweb predict ds --model cw --run-id b2 --threads 1

# ---- datasheet: rank 2's copy has no index
mkdir -p "$W/sheet"
ok_once datasheet "DATA_README" datasheet ds --out "$W/sheet/DATA_README.md"
fresh
rm "$W/bad/ds/ard.db"
rank2_bad datasheet "" "DATA_README" datasheet ds --out "$W/sheet/b.md"
[ ! -e "$W/sheet/b.md" ] || fail "datasheet: written although rank 2 failed"

# ---- fof: only rank 0 reads the catalog (the others link the slabs it sends), so a rank 2 whose
# copy has neither index nor catalog does not matter: the run succeeds, reported once by rank 0
ok_once fof '"run_id"' fof ds --run-id f3 --json
fresh
rm -rf "$W/bad/ds/ard.db" "$W/bad/ds/catalog"
timeout 300 $TAG -n 2 -wdir "$W/good" "$ARD" fof ds --run-id b3 --json : -n 1 -wdir "$W/bad" \
  "$ARD" fof ds --run-id b3 --json > "$W/fof.bad" 2>&1 || { cat "$W/fof.bad"; fail "fof: rank 2 without a catalog"; }
[ "$(of_rank 0 stdout "$W/fof.bad" | grep -c '"run_id"')" = 1 ] || { cat "$W/fof.bad"; fail "fof: no report"; }
[ -e "$W/good/ds/results/fof-b3-galaxies.parquet" ] || fail "fof: no results"

# ---- fetch: the tiles of rank 2's share are corrupt in its copy (rank 0 plans on its own)
ok_once fetch "^fetched" fetch ds --where "z > 0" --out "$W/f3.parquet" --threads 1
fresh
find "$W/bad/ds/tiles" -name '*.parquet' | while read -r f; do head -c 100 "$f" > "$f.x"; mv "$f.x" "$f"; done
rank2_bad fetch "parquet" "^fetched" fetch ds --where "z > 0" --out "$W/b4.parquet" --threads 1
[ ! -e "$W/good/b4.parquet" ] || fail "fetch: an output although rank 2 failed"

# ---- stream serve: rank 2 (a producer) has no tiles in its copy
fresh
rm -rf "$W/bad/ds/tiles" "$W/bad/ds/ard.db"
rank2_bad serve "tile" "^ard: served" stream serve ds --name "$NAME-b5"

# ---- sync (SQLite, rank 0 writes): rank 2 reads its share from a copy whose tiles are corrupt;
# a tile that cannot be read is recorded in sync_errors and the run exits 1 (as in one process):
# the note comes from rank 0 alone and the index names the tiles of rank 2's share only
fresh
rm "$W/good/ds/ard.db"
find "$W/bad/ds/tiles" -name '*.parquet' | while read -r f; do echo junk > "$f"; done
timeout 300 $TAG -n 2 -wdir "$W/good" "$ARD" sync ds --no-datasheet : \
  -n 1 -wdir "$W/bad" "$ARD" sync ds --no-datasheet > "$W/sync.bad" 2>&1
rc=$?
[ $rc = 1 ] || { cat "$W/sync.bad"; fail "sync: exit $rc with rank 2's tiles corrupt"; }
of_rank 0 stderr "$W/sync.bad" | grep -q "file(s) skipped" || { cat "$W/sync.bad"; fail "sync: no note"; }
for r in 1 2; do
  [ -z "$(of_rank $r stdout "$W/sync.bad")$(of_rank $r stderr "$W/sync.bad")" ] ||
    { cat "$W/sync.bad"; fail "sync: rank $r printed something"; }
done
[ "$(sqlite3 "$W/good/ds/ard.db" "SELECT COUNT(*) FROM sync_errors")" -gt 0 ] || fail "sync: no error recorded"

# ---- progress: one set of lines, on rank 0, counting every rank's work
rm -f "$W/good/ds/ard.db"
ARD_PROGRESS_LINES=0 timeout 300 $TAG -x ARD_PROGRESS_LINES -n 3 -wdir "$W/good" "$ARD" sync ds \
  --no-datasheet > "$W/sync.prog" 2>&1 || { cat "$W/sync.prog"; fail "sync with progress lines"; }
files=$(sqlite3 "$W/good/ds/ard.db" "SELECT COUNT(*) FROM files")
last=$(of_rank 0 stderr "$W/sync.prog" | grep "^sync: " | tail -1)
echo "$last" | grep -q " $files/$files " || { cat "$W/sync.prog"; fail "sync: last progress line '$last', expected $files/$files"; }
for r in 1 2; do
  [ -z "$(of_rank $r stderr "$W/sync.prog")" ] || { cat "$W/sync.prog"; fail "sync: rank $r printed progress"; }
done
ARD_PROGRESS_LINES=0 timeout 300 $TAG -x ARD_PROGRESS_LINES -n 3 -wdir "$W/good" "$ARD" anomaly \
  score ds --model m1 --run p1 --batch-size 16 > "$W/score.prog" 2>&1 || { cat "$W/score.prog"; fail "score with progress"; }
last=$(of_rank 0 stderr "$W/score.prog" | grep "^anomaly: " | tail -1)
echo "$last" | grep -q " 300/300 " || { cat "$W/score.prog"; fail "score: last progress line '$last', expected 300/300"; }
[ "$(of_rank 0 stderr "$W/score.prog" | grep -c "^anomaly: ")" -ge 2 ] || fail "score: one progress line"
for r in 1 2; do
  [ -z "$(of_rank $r stderr "$W/score.prog")" ] || { cat "$W/score.prog"; fail "score: rank $r printed progress"; }
done
echo "ok"
