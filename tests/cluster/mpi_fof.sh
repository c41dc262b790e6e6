#!/bin/bash
# `mpirun -n N ard fof`: the distributed linking gives the one-process partition and numbering
# (byte-identical galaxies and groups tables) for redshift-space and isotropic linking with 2, 3 and 4
# ranks; only rank 0 reads the catalog, writes and prints (the others link the slab it sends them);
# an error is reported once, on rank 0, with its rank; an empty selection ends on every rank.
source "$(dirname "$0")/mpi_env.bash"
"$ARD" generate "$W/ds" --galaxies 6000 --spectra none --seed 7 --quiet || fail "generate"
"$ARD" sync "$W/ds" >/dev/null 2>&1 || fail "sync"
cat_run() { # cat_run RUN TABLE
  "$ARD" parquet cat "$W/ds/results/fof-$1-$2.parquet" 2>/dev/null || fail "reading fof-$1-$2"
}
"$ARD" fof "$W/ds" --run-id one --json > "$W/one.json" || fail "fof in one process"
"$ARD" fof "$W/ds" --run-id onei --mode isotropic --b 0.2 --json > "$W/onei.json" || fail "fof isotropic"
for n in 2 3 4; do
  timeout 300 $MPIRUN -n $n "$ARD" fof "$W/ds" --run-id r$n --json > "$W/r$n.json" 2>"$W/r$n.err" ||
    { cat "$W/r$n.err"; fail "mpirun -n $n fof"; }
  [ "$(grep -c '"run_id"' "$W/r$n.json")" = 1 ] || fail "$n ranks: the summary was not printed once"
  for t in galaxies groups; do
    cmp -s <(cat_run one $t) <(cat_run r$n $t) || fail "$n ranks: the $t table differs from one process"
  done
  timeout 300 $MPIRUN -n $n "$ARD" fof "$W/ds" --run-id i$n --mode isotropic --b 0.2 --json \
    > "$W/i$n.json" 2>"$W/i$n.err" || { cat "$W/i$n.err"; fail "mpirun -n $n fof isotropic"; }
  for t in galaxies groups; do
    cmp -s <(cat_run onei $t) <(cat_run i$n $t) || fail "$n ranks isotropic: the $t table differs"
  done
done
groups=$(cat_run one groups | wc -l)
[ "$groups" -gt 20 ] || fail "only $groups group rows: the comparison is too weak"
# only rank 0 reads the catalog: a missing dataset is rank 0's error alone, printed once
err=$(timeout 120 $MPIRUN -n 3 "$ARD" fof "$W/missing" 2>&1); rc=$?
[ $rc != 0 ] || fail "missing dataset: exit 0"
[ "$(echo "$err" | grep -c "^ard: rank 0: ")" = 1 ] && ! echo "$err" | grep -q "rank [12]: " ||
  fail "missing dataset: not rank 0's error alone, once: $err"
# an empty selection (no galaxy to link) ends on every rank
timeout 120 $MPIRUN -n 3 "$ARD" fof "$W/ds" --where "z > 100" --run-id none --json \
  > "$W/none.json" 2>"$W/none.err"; rc=$?
rc1=$("$ARD" fof "$W/ds" --where "z > 100" --run-id none1 --json > /dev/null 2>&1; echo $?)
[ "$rc" = "$rc1" ] || { cat "$W/none.err"; fail "empty selection: exit $rc under mpirun, $rc1 in one process"; }
echo "ok"
