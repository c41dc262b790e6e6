#!/bin/bash
# An ard built with -DARD_WITH_MPI=OFF (skipped, exit 77, when this one has MPI): run by hand every
# command works as always; started by a launcher with 2+ ranks (OMPI_COMM_WORLD_SIZE, PMI_SIZE) a
# command fails at once with exit 1 and says this ard was built without MPI, instead of N copies
# racing on one index; with one rank it runs as one process.
set -u
ARD=$(readlink -f "$1")
TC="$(dirname "$ARD")/tests/test_cluster"
fail() { echo "FAILED: $*"; exit 1; }
[ -x "$TC" ] || { echo "SKIPPED: $TC not built (cmake --build ... --target test_cluster)"; exit 77; }
if "$TC" available; then
  echo "SKIPPED: this ard was built with MPI (the check is for -DARD_WITH_MPI=OFF)"; exit 77
fi
W=$(mktemp -d /tmp/ard-nompi-XXXXXX)
trap 'rm -rf "$W"' EXIT
unset OMPI_COMM_WORLD_SIZE PMI_SIZE
"$ARD" generate "$W/ds" --galaxies 200 --seed 5 --threads 2 --quiet || fail "generate"
"$ARD" sync "$W/ds" --quiet > /dev/null 2>&1 || fail "sync without a launcher"
for launcher in OMPI_COMM_WORLD_SIZE PMI_SIZE; do
  for cmd in "sync $W/ds" "fof $W/ds" "fetch $W/ds --out $W/x.parquet" "stream serve $W/ds --name nompi-$$"; do
    out=$(env $launcher=2 "$ARD" $cmd 2>&1); rc=$?
    [ $rc = 1 ] || fail "$launcher=2 ard $cmd: exit $rc, expected 1: $out"
    echo "$out" | grep -q "^ard: .*built without MPI" || fail "$launcher=2 ard $cmd: no clear message: $out"
  done
done
[ ! -e "$W/x.parquet" ] || fail "a command ran although it could not split its work"
out=$(OMPI_COMM_WORLD_SIZE=1 "$ARD" fof "$W/ds" --run-id one 2>&1) || fail "one rank: $out"
[ -e "$W/ds/results/fof-one-galaxies.parquet" ] || fail "one rank: fof did not run as one process"
echo "ok"
