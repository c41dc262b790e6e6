#!/bin/bash
# Progress of every distributed stage under mpirun -n 3 (fetch, fof, cosmicweb predict, datasheet;
# sync and anomaly score are in mpi_report.sh, sync on PostgreSQL in mpi_sync_pg.sh): with
# ARD_PROGRESS_LINES=0 (a plain line per update, as rank 0 writes them under mpirun every 10 s)
# only rank 0 prints progress lines, one counter per stage, and its last line counts every rank's
# work: fetch, the spectra written; fof, every galaxy linked; cosmicweb predict, every galaxy
# predicted; datasheet, one part per rank plus the Markdown.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" cosmicweb train "$W/ds" --epochs 1 --k 16 --fanout1 4 --fanout2 2 --hidden 8 \
  --run-id cw --threads 2 > /dev/null 2>&1 || fail "cosmicweb train"
of_rank() { sed -n "s/^\[[0-9]*,$1\]<$2>://p" "$3"; }
# progress NAME LABEL TOTAL ARGS...: runs the stage on 3 ranks; rank 0's last "LABEL: P% D/T"
# line reads TOTAL/TOTAL, and ranks 1 and 2 print nothing on stderr
progress() {
  local name=$1 label=$2 total=$3
  shift 3
  (cd "$W" && ARD_PROGRESS_LINES=0 timeout 300 $MPIRUN --tag-output -x ARD_PROGRESS_LINES -n 3 \
    "$ARD" "$@" > "$W/$name.out" 2>&1) || { cat "$W/$name.out"; fail "$name: mpirun -n 3 failed"; }
  local last
  last=$(of_rank 0 stderr "$W/$name.out" | grep -E "^$label: [0-9]+% [0-9]+/[0-9]+ " | tail -1)
  echo "$last" | grep -q "^$label: 100% $total/$total " ||
    { cat "$W/$name.out"; fail "$name: last progress line '$last', expected $total/$total"; }
  [ "$(of_rank 0 stderr "$W/$name.out" | grep -cE "^[a-z]+: [0-9]+% [0-9]+/[0-9]+ ")" = \
    "$(of_rank 0 stderr "$W/$name.out" | grep -cE "^$label: [0-9]+% ")" ] ||
    { cat "$W/$name.out"; fail "$name: progress lines of another counter"; }
  for r in 1 2; do
    [ -z "$(of_rank $r stderr "$W/$name.out")" ] ||
      { cat "$W/$name.out"; fail "$name: rank $r printed on stderr"; }
  done
}
spectra=$(sqlite3 "$W/ds/ard.db" "SELECT COUNT(*) FROM spectra s JOIN galaxies g USING (targetid)
  WHERE g.z > 0")
progress fetch fetch "$spectra" fetch ds --where "z > 0" --out "$W/f.parquet" --threads 1
grep -q "^fetched $spectra " <(of_rank 0 stderr "$W/fetch.out") || { cat "$W/fetch.out"; fail "fetch: report"; }
progress fof fof 300 fof ds --run-id f1 --json
grep -q '"galaxies": *300' <(of_rank 0 stdout "$W/fof.out") || { cat "$W/fof.out"; fail "fof: not 300 galaxies"; }
progress predict cosmicweb 300 cosmicweb predict ds --model cw --run-id p1 --threads 1
mkdir -p "$W/sheet"
progress datasheet datasheet 4 datasheet ds --out "$W/sheet/DATA_README.md"
[ -s "$W/sheet/DATA_README.md" ] || fail "datasheet: not written"
echo "ok"
