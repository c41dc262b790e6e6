# Sourced by the tests/cluster/*.sh scripts: finds mpirun (exit 77, loudly, without it), the ard
# binary ($1) and test_cluster beside it, sets the environment OpenMPI needs as root and on a small
# machine, and writes a small generated survey once per script into $W/ds.
set -u
ARD=$(readlink -f "$1")
BUILD=$(dirname "$ARD")
TC="$BUILD/tests/test_cluster"
fail() { echo "FAILED: $*"; exit 1; }
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIPPED: mpirun is not installed (apt-get install openmpi-bin)"; exit 77
fi
if ! "$TC" 2>/dev/null | grep -q PASSED; then
  [ -x "$TC" ] || { echo "SKIPPED: $TC not built (cmake --build ... --target test_cluster)"; exit 77; }
fi
if ! "$TC" available; then
  echo "SKIPPED: ard was built without MPI (-DARD_WITH_MPI=OFF): nothing runs across ranks"; exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PRTE_MCA_rmaps_default_mapping_policy=:oversubscribe
export OMPI_MCA_rmaps_base_oversubscribe=1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0  # MPI's own allocations live to exit
if ! mpirun --oversubscribe -n 1 true >/dev/null 2>&1; then
  echo "SKIPPED: mpirun cannot start a job here"; exit 77
fi
MPIRUN="mpirun --oversubscribe"
W=$(mktemp -d /tmp/ard-mpi-XXXXXX)
NAME="ard-mpi-$$"
cleanup() {
  # the jobs are `timeout` wrappers: end what they started too (by parent id), then themselves
  for p in $(jobs -p); do
    for c in $(pgrep -P "$p"); do kill -9 $(pgrep -P "$c") "$c" 2>/dev/null; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$W"
  rm -f /dev/shm/"$NAME"*
}
trap cleanup EXIT
make_dataset() {
  "$ARD" generate "$W/ds" --galaxies 300 --seed 5 --threads 2 --quiet || fail "generate"
  "$ARD" sync "$W/ds" >/dev/null 2>&1 || fail "sync"
}
# serve_dump TAG DUMP_ARGS -- SERVE_PREFIX... : serves DS under the given launcher prefix
# (empty = one process) with $SERVE_ARGS, dumps every spectrum into $W/TAG.txt, the server's stderr
# into $W/TAG.err; fails when either side fails.
serve_dump() {
  local tag=$1 dargs=$2
  shift 2
  timeout 900 "$@" "$ARD" stream serve "$W/ds" --name "$NAME-$tag" $SERVE_ARGS 2>"$W/$tag.err" &
  local server=$!
  timeout 900 "$TC" dump "$NAME-$tag" $dargs >"$W/$tag.txt" 2>"$W/$tag.dump.err" || {
    cat "$W/$tag.err" "$W/$tag.dump.err"; fail "$tag: the consumer failed"; }
  wait $server || { cat "$W/$tag.err"; fail "$tag: the server exited with an error"; }
  [ -s "$W/$tag.txt" ] || fail "$tag: nothing delivered"
}
