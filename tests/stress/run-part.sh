#!/bin/sh
# run-part.sh - runs one part of `make stress` and records its outcome.
#   run-part.sh SUMMARY NAME COMMAND...
# Runs COMMAND, then appends "NAME  PASS|FAIL  <seconds> s" to SUMMARY and
# prints the same line.  Exits with COMMAND's status (so the caller can go
# on to the next part and still fail at the end).
set -u
if [ $# -lt 3 ]; then
    echo "usage: run-part.sh SUMMARY NAME COMMAND..." >&2
    exit 2
fi
summary=$1 name=$2
shift 2
echo "== stress part $name: $*"
start=$(date +%s)
"$@"
rc=$?
elapsed=$(( $(date +%s) - start ))
if [ $rc -eq 0 ]; then result=PASS; else result=FAIL; fi
line=$(printf '%-20s %s  %6d s' "$name" "$result" "$elapsed")
echo "$line" >> "$summary"
echo "== $line"
exit $rc
