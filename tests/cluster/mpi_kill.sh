#!/bin/bash
# Rank deaths never hang anyone. A producer rank killed with SIGKILL: the store's consumer gets an
# error within bounded time, under plain mpirun (which terminates the job: the consumer rank fails
# its store on SIGTERM) and with --enable-recovery (the job lives on: the consumer declares the
# silent producer dead after --peer-timeout). A consumer rank killed: its store's consumer gets an
# error, the producers stop and mpirun ends, in both modes. Bounded by `timeout`, never timed.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
ARGS="--batch-size 8 --prefetch 2 --epochs 50 --peer-timeout 2"
pid_of_rank() { # pid_of_rank FILE RANK
  for i in $(seq 300); do
    p=$(sed -n "s/.*rank $2 pid \([0-9]*\) .*/\1/p" "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
}
# run_kill TAG RANK_TO_KILL MPIRUN_EXTRA...
run_kill() {
  local tag=$1 victim=$2
  shift 2
  timeout 120 $MPIRUN "$@" -n 3 "$ARD" stream serve "$W/ds" --name "$NAME-$tag" $ARGS 2>"$W/$tag.err" &
  local job=$!
  timeout 120 "$TC" dump "$NAME-$tag" --ids --delay 20 >"$W/$tag.txt" 2>"$W/$tag.dump.err" &
  local dump=$!
  local pids=""
  for r in 0 1 2; do pids="$pids $(pid_of_rank "$W/$tag.err" $r)"; done
  local vpid=$(pid_of_rank "$W/$tag.err" $victim)
  [ -n "$vpid" ] || { cat "$W/$tag.err"; fail "$tag: no layout line for rank $victim"; }
  for i in $(seq 200); do [ -s "$W/$tag.txt" ] && break; sleep 0.1; done
  [ -s "$W/$tag.txt" ] || fail "$tag: nothing delivered before the kill"
  kill -9 "$vpid"
  wait $dump; local drc=$?
  [ $drc = 1 ] || { cat "$W/$tag.dump.err"; fail "$tag: the store's consumer exited $drc, expected an error (1; 124 = hung)"; }
  grep -q "ARD_EIO" "$W/$tag.dump.err" || { cat "$W/$tag.dump.err"; fail "$tag: consumer error is not EIO"; }
  wait $job; local jrc=$?
  # plain mpirun reports the death; with --enable-recovery its exit code varies: only no hang counts
  [ $jrc != 124 ] || { cat "$W/$tag.err"; fail "$tag: mpirun hung"; }
  [ $jrc != 0 ] || [ "$*" = --enable-recovery ] || { cat "$W/$tag.err"; fail "$tag: mpirun exited 0"; }
  for p in $pids; do
    for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && fail "$tag: rank process $p still alive 10 s after mpirun ended"
  done
  [ ! -e "/dev/shm/$NAME-$tag" ] || [ $victim = 0 ] || fail "$tag: the store outlived its server"
  echo "$tag: consumer saw: $(cat "$W/$tag.dump.err")"
}
run_kill producer 1
run_kill producer-recovery 2 --enable-recovery
grep -q "producer rank 2 silent" "$W/producer-recovery.dump.err" "$W/producer-recovery.err" ||
  { cat "$W/producer-recovery.err"; fail "recovery: the dead producer was not named"; }
run_kill consumer 0
run_kill consumer-recovery 0 --enable-recovery
grep -q "consumer rank 0 silent" "$W/consumer-recovery.err" ||
  { cat "$W/consumer-recovery.err"; fail "recovery: producers did not notice the dead consumer"; }
echo "ok"
