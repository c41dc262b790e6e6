#!/bin/bash
# `ard stream` end to end on a generated survey: bench over the whole dataset, over --where (through
# the index) and over a --plan from `ard query`, each delivering exactly the selected spectra; serve
# + bench --connect from another process; catalog --columns (filled for every spectrum, seen by a
# --connect consumer, unknown names refused); usage and input errors.
set -u
ARD=$1
W=$(mktemp -d /tmp/ard-cli-stream-XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAILED: $*"; exit 1; }
"$ARD" generate "$W/ds" --galaxies 300 --seed 5 --threads 2 --quiet || fail "generate"
"$ARD" sync "$W/ds" >/dev/null 2>&1 || fail "sync"
count() { sed -n 's/.*"spectra": \([0-9]*\),.*/\1/p'; }
all=$("$ARD" stream bench "$W/ds" --batch-size 32 --json | count)
[ "$all" = 300 ] || fail "whole dataset delivered $all spectra, expected 300"
want=$("$ARD" query "$W/ds" --where "Z > 0.8" --format targets | wc -l)
[ "$want" -gt 0 ] && [ "$want" -lt 300 ] || fail "query selected $want"
got=$("$ARD" stream bench "$W/ds" --where "Z > 0.8" --batch-size 16 --shuffle --seed 3 --json | count)
[ "$got" = "$want" ] || fail "--where delivered $got spectra, the index selects $want"
"$ARD" query "$W/ds" --where "Z > 0.8" --format plan > "$W/plan.tsv" 2>/dev/null
got=$("$ARD" stream bench "$W/ds" --plan "$W/plan.tsv" --batch-size 16 --json | count)
[ "$got" = "$want" ] || fail "--plan delivered $got spectra, expected $want"
out=$("$ARD" stream bench "$W/ds" --batch-size 32 --columns Z,SPECTYPE --json)
echo "$out" | grep -q '"columns": \["Z","SPECTYPE"\], "catalog_rows": 300}' || fail "--columns: $out"
out=$("$ARD" stream bench "$W/ds" --where "Z > 0.8" --columns zwarn,z --json)
echo "$out" | grep -q '"columns": \["ZWARN","Z"\]' || fail "--where --columns: $out"
err=$("$ARD" stream bench "$W/ds" --columns Z,BOGUS 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'unknown catalog column "BOGUS"' || fail "--columns BOGUS: rc $rc, $err"
"$ARD" stream bench "$W/ds" --columns "Z) FROM x --" >/dev/null 2>&1; [ $? = 1 ] || fail "--columns injection: exit 1"
name="ard-cli-test-$$"
timeout 300 "$ARD" stream serve "$W/ds" --name "$name-col" --batch-size 50 --columns SPECTYPE,Z 2>/dev/null &
server=$!
got=""
for i in $(seq 100); do
  got=$("$ARD" stream bench --connect "$name-col" --json 2>/dev/null); [ -n "$got" ] && break
  sleep 0.1
done
wait $server || fail "serve --columns exited with an error"
echo "$got" | grep -q '"spectra": 300,.*"columns": \["SPECTYPE","Z"\], "catalog_rows": 300}' || fail "--connect columns: $got"
timeout 300 "$ARD" stream serve "$W/ds" --name "$name" --batch-size 20 --prefetch 3 --epochs 2 2>/dev/null &
server=$!
got=""
for i in $(seq 100); do
  got=$("$ARD" stream bench --connect "$name" --json 2>/dev/null | count); [ -n "$got" ] && break
  sleep 0.1
done
wait $server || fail "serve exited with an error"
[ "$got" = 600 ] || fail "bench --connect received $got spectra, expected 2 x 300"
[ ! -e "/dev/shm/$name" ] || fail "the store /$name outlived its server"
timeout 300 "$ARD" stream serve "$W/ds" --name "$name-int" --batch-size 5 --prefetch 2 2>/dev/null &
server=$!
for i in $(seq 100); do [ -e "/dev/shm/$name-int" ] && break; sleep 0.1; done
[ -e "/dev/shm/$name-int" ] || fail "serve did not create /$name-int"
kill -INT $server
wait $server; rc=$?
[ $rc = 1 ] || fail "interrupted serve exited $rc, expected 1"
[ ! -e "/dev/shm/$name-int" ] || fail "an interrupted server left /$name-int behind"
"$ARD" stream bench "$W/missing" >/dev/null 2>&1; [ $? = 1 ] || fail "missing dataset: exit 1"
"$ARD" stream bench "$W/ds" --patch 16 >/dev/null 2>&1; [ $? = 2 ] || fail "--patch 16: exit 2"
"$ARD" stream serve "$W/ds" >/dev/null 2>&1; [ $? = 2 ] || fail "serve without --name: exit 2"
"$ARD" stream bench "$W/ds" --where "Z >" >/dev/null 2>&1; [ $? = 1 ] || fail "bad SQL: exit 1"
echo "ok"
