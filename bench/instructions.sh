#!/usr/bin/env bash
# Instructions per uncached token verification, jose's jwtVerify against meshless's JwtVerifier,
# counted by valgrind (callgrind) in the measured window only: stable where timings are not.
# Needs valgrind; run `pnpm -s build` first. Usage: bench/instructions.sh [tokens] [warm-up]
set -euo pipefail
cd "$(dirname "$0")"
count=${1:-1000}
warm=${2:-3000}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
for which in jose meshless; do
  log=$(mktemp)
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
    node dist/token-instructions.js "$which" "$count" "$warm" 5000 >"$log" 2>&1 &
  pid=$!
  until grep -q '=== MEASURE ===' "$log"; do sleep 0.5; done
  callgrind_control -i on "$pid" >/dev/null 2>&1
  until grep -q '=== END ===' "$log"; do sleep 0.5; done
  callgrind_control -i off "$pid" >/dev/null 2>&1
  wait "$pid"
  total=$(grep 'Collected' "$log" | awk '{print $4}' | tr -d ,)
  echo "$which: $((total / count)) instructions per token"
  rm -f "$log"
done
