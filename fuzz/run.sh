#!/usr/bin/env bash
# Fuzz targets one after another, JOBS at a time, each for SECONDS, then print
# each run's figures from AFL's fuzzer_stats. Build first (`cargo afl build
# --release` in fuzz/) and seed (`fuzz/seed.sh`).
#   fuzz/run.sh [-t SECONDS] [-j JOBS] [TARGET...]     (default: 300 s, 2 jobs, all)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=300 jobs=2
while getopts t:j: o; do
  case $o in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
((${#targets[@]})) || targets=(vsftpd proftpd pureftpd filezilla iis-metabase iis-apphost regfile
  iptables-save nftables firewalld ufw powershell sh cmd compose kube lint)

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
# A second run of a target resumes from its fuzz/out/<target> (figures add up).
export AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 AFL_AUTORESUME=1

run() {
  local t=$1
  mkdir -p out
  # -t 1000: an input that takes over a second is a hang; -m 2048: over 2 GiB is a blow-up.
  cargo afl fuzz -V "$seconds" -t 1000 -m 2048 -i "corpus/$t" -o "out/$t" -- "target/release/$t" \
    >"out/$t.log" 2>&1 || echo "$t: afl-fuzz exited $? (see fuzz/out/$t.log)"
}

running=0
for t in "${targets[@]}"; do
  run "$t" &
  if ((++running >= jobs)); then
    wait -n || true
    ((running--))
  fi
done
wait

printf '%-14s %8s %12s %9s %7s %7s %6s %9s\n' target seconds execs execs/s paths crashes hangs last-find
for t in "${targets[@]}"; do
  s=out/$t/default/fuzzer_stats
  [[ -f $s ]] || { echo "$t: no stats"; continue; }
  v() { sed -n "s/^$1 *: *//p" "$s"; }
  start=$(v start_time) last=$(v last_find) now=$(v last_update)
  ago=$((last ? now - last : now - start))
  printf '%-14s %8s %12s %9s %7s %7s %6s %8ss\n' "$t" "$(v run_time)" "$(v execs_done)" \
    "$(v execs_per_sec)" "$(v corpus_count)" "$(v saved_crashes)" "$(v saved_hangs)" "$ago"
done
