#!/usr/bin/env bash
# Fuzz targets one after another, JOBS at a time, each for SECONDS, then print
# each run's figures from AFL's fuzzer_stats. Build first (`cargo afl build
# --release` in fuzz/) and seed (`fuzz/seed.sh`).
#   fuzz/run.sh [-t SECONDS] [-j JOBS] [-p] [TARGET...]  (default: 300 s, 2 jobs, all)
# -p stops a target early at a plateau: once it has run MIN_PLATEAU seconds (300)
# and its paths grew under 1% in the last third of its run so far (AFL's plot_data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=300 jobs=2 plateau=0
min_plateau=${MIN_PLATEAU:-300}
while getopts t:j:p o; do
  case $o in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    p) plateau=1 ;;
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

# Growth of the paths over the last third of a run, from its plot_data: prints
# "SECONDS PATHS_THEN PATHS_NOW" (relative_time and corpus_count columns).
growth() {
  awk -F', *' '!/^#/ { t[n] = $1; c[n++] = $4 }
    END { if (!n) exit 1; T = t[n-1]; i = 0
          while (i < n-1 && t[i] < T * 2 / 3) i++
          print T, c[i], c[n-1] }' "$1"
}

run() {
  local t=$1 pid
  mkdir -p out
  # -t 1000: an input that takes over a second is a hang; -m 2048: over 2 GiB is a blow-up.
  cargo afl fuzz -V "$seconds" -t 1000 -m 2048 -i "corpus/$t" -o "out/$t" -- "target/release/$t" \
    >"out/$t.log" 2>&1 &
  pid=$!
  while ((plateau)) && kill -0 "$pid" 2>/dev/null; do
    sleep 20
    local plot=out/$t/default/plot_data stats=out/$t/default/fuzzer_stats g
    [[ -f $plot && -f $stats ]] || continue
    g=$(growth "$plot") || continue
    read -r T then now <<<"$g"
    if ((T >= min_plateau && (now - then) * 100 < now)); then
      echo "$t: plateau at ${T}s: paths $then -> $now over the last third"
      # SIGINT makes afl-fuzz write its stats and stop, as -V would.
      kill -INT "$(sed -n 's/^fuzzer_pid *: *//p' "$stats")" 2>/dev/null || true
      break
    fi
  done
  wait "$pid" || echo "$t: afl-fuzz exited $? (see fuzz/out/$t.log)"
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

printf '%-14s %8s %12s %9s %7s %7s %6s %9s %13s\n' target seconds execs execs/s paths crashes hangs last-find last-third
for t in "${targets[@]}"; do
  s=out/$t/default/fuzzer_stats
  [[ -f $s ]] || { echo "$t: no stats"; continue; }
  v() { sed -n "s/^$1 *: *//p" "$s"; }
  start=$(v start_time) last=$(v last_find) now=$(v last_update)
  ago=$((last ? now - last : now - start))
  # Paths found in the last third of the run (the plateau test), as a share of all.
  third=$(growth "out/$t/default/plot_data" | awk '{ printf "+%d (%.1f%%)", $3 - $2, $3 ? 100 * ($3 - $2) / $3 : 0 }') || third=-
  printf '%-14s %8s %12s %9s %7s %7s %6s %8ss %13s\n' "$t" "$(v run_time)" "$(v execs_done)" \
    "$(v execs_per_sec)" "$(v corpus_count)" "$(v saved_crashes)" "$(v saved_hangs)" "$ago" "$third"
done
