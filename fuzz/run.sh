#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (libFuzzer with AddressSanitizer).
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s each, all targets)
#
# The inputs in fuzz/regressions/<target>/ seed the corpus. When a target crashes, its input
# is copied to fuzz/regressions/<target>/ and the script fails: fix the bug, then commit the
# input; `cargo nextest run --test fuzz_regressions` replays every file there forever after.
#
# Needs cargo-fuzz (installed here if missing) and a C++ compiler (libFuzzer is C++).
# cargo-fuzz passes `-Zsanitizer=address`, which the stable 1.95 compiler accepts only with
# RUSTC_BOOTSTRAP=1; no other toolchain is used.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(form_body person_body field_value sort_and_cursor)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1
# A stale probe of the compiler made without RUSTC_BOOTSTRAP would be reused: drop it.
rm -f target/.rustc_info.json
failed=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "corpus/$t" "artifacts/$t"
  if cargo fuzz run "$t" "corpus/$t" "regressions/$t" -- \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1; then
    echo "== $t: clean"
  else
    failed+=("$t")
    for crash in artifacts/"$t"/*; do
      [ -e "$crash" ] || continue
      cp "$crash" "regressions/$t/"
      echo "== $t: crash saved as fuzz/regressions/$t/$(basename "$crash")"
    done
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: all targets clean"
