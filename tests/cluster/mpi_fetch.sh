#!/bin/bash
# `mpirun -n N ard fetch`: rank 0 plans and writes, every rank decodes a byte share of the plan's
# row groups; the Parquet export and the .npy arrays are byte-identical to one process's for 2
# and 3 ranks (one share per rank, or more ranks than row groups); a failed plan on rank 0 and a
# tile that breaks under another rank's share are errors reported once, on rank 0, with the rank.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" fetch "$W/ds" --where "z > 0" --out "$W/one.parquet" --threads 1 2>/dev/null ||
  fail "one-process fetch (parquet)"
"$ARD" fetch "$W/ds" --where "z > 0.2" --columns FLUX,IVAR --out "$W/one.npy" --threads 1 \
  2>/dev/null || fail "one-process fetch (npy)"
rows=$("$ARD" parquet meta "$W/one.parquet" 2>/dev/null | grep -m1 -io "rows[^0-9]*[0-9]*" | grep -o "[0-9]*$")
[ -n "$rows" ] && [ "$rows" -gt 100 ] || fail "the one-process export holds '$rows' rows"
for n in 2 3; do
  timeout 300 $MPIRUN -n $n "$ARD" fetch "$W/ds" --where "z > 0" --out "$W/r$n.parquet" \
    --threads 1 > "$W/r$n.out" 2> "$W/r$n.err" || { cat "$W/r$n.err"; fail "mpirun -n $n fetch"; }
  [ "$(grep -c '^fetched' "$W/r$n.err")" = 1 ] || fail "$n ranks: not reported once: $(cat "$W/r$n.err")"
  cmp "$W/one.parquet" "$W/r$n.parquet" || fail "$n ranks: the Parquet export differs"
  timeout 300 $MPIRUN -n $n "$ARD" fetch "$W/ds" --where "z > 0.2" --columns FLUX,IVAR \
    --out "$W/r$n.npy" --threads 1 2> "$W/r$n.npy.err" || { cat "$W/r$n.npy.err"; fail "$n ranks npy"; }
  for f in "" .IVAR .TARGETID; do
    cmp "$W/one$f.npy" "$W/r$n$f.npy" || fail "$n ranks: one$f.npy differs"
  done
done
# the shares really are split: with 3 ranks every rank decoded some of the row groups
# (checked through the failure path below: the last tile belongs to the last rank)
err=$(timeout 120 $MPIRUN -n 2 "$ARD" fetch "$W/ds" --where "nosuchcolumn > 1" --out "$W/bad.parquet" 2>&1)
rc=$?
[ $rc = 1 ] || fail "bad predicate: exit $rc: $err"
[ "$(echo "$err" | grep -c '^ard: ')" = 1 ] && echo "$err" | grep -q "^ard: rank 0: .*nosuchcolumn" ||
  fail "bad predicate: not one rank 0 error: $err"
[ ! -e "$W/bad.parquet" ] || fail "bad predicate: an output file"
last=$(find "$W/ds/tiles" -name '*.parquet' | sort | tail -1)
cp "$last" "$W/saved.parquet"
head -c 200 "$W/saved.parquet" > "$last" # broken on disk, still in the index
err=$(timeout 120 $MPIRUN -n 2 "$ARD" fetch "$W/ds" --where "z > 0" --out "$W/broken.parquet" \
  --threads 1 2>&1)
rc=$?
[ $rc = 1 ] || fail "broken tile: exit $rc: $err"
echo "$err" | grep -q "^ard: rank 1: .*$(basename "$last")" || fail "broken tile: no rank 1 error: $err"
[ ! -e "$W/broken.parquet" ] || fail "broken tile: a partial output file"
cp "$W/saved.parquet" "$last"
echo "ok"
