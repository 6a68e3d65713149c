#!/usr/bin/env bash
# Runs cargo-fuzz targets, each for FUZZ_SECONDS (default 60), from a corpus seeded with real
# files of every kind the tests make (imaging/examples/fuzz_seeds.rs) and every input that once
# found a fault (imaging/tests/regressions/, each replayed by `cargo test` too); the service's
# parsers from real request bodies too (fuzz/requests/).
#   scripts/fuzz.sh                 the image readers (what `make test` runs briefly)
#   scripts/fuzz.sh all             those and the service's parsers (builds the AWS SDK too)
#   scripts/fuzz.sh jpeg_eighth ...     the named targets
# A crash, a timeout (FUZZ_TIMEOUT seconds for one input) or a run past FUZZ_RSS_MB of memory
# stops it with the input in fuzz/artifacts/TARGET/; add it to a regression test.
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them, since no nightly toolchain can be installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
image_targets=(jpeg_eighth png_rows thumbnail dimensions sniff)
service_targets=(upload_body list_query direct_upload_bodies access_token accept)
case "${1:-}" in
  "") targets=("${image_targets[@]}") ;;
  all) targets=("${image_targets[@]}" "${service_targets[@]}") ;;
  *) targets=("$@") ;;
esac
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

seeds=fuzz/seeds
cargo run --quiet --locked -p image-api-imaging --features samples --example fuzz_seeds -- "$seeds"

for target in "${targets[@]}"; do
  features=()
  [[ " ${service_targets[*]} " == *" $target "* ]] && features=(--features service)
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$seeds"/* imaging/tests/regressions/* "$corpus"/ 2>/dev/null || true
  # The service's parsers also start from real request bodies and queries (fuzz/requests/).
  [[ ${#features[@]} -gt 0 ]] && { cp -n fuzz/requests/* "$corpus"/ 2>/dev/null || true; }

  echo "== fuzzing $target for ${seconds}s"
  (cd fuzz && cargo fuzz run "${features[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 \
    -timeout="${FUZZ_TIMEOUT:-5}" -rss_limit_mb="${FUZZ_RSS_MB:-512}" -print_final_stats=1 2>&1) |
    tee "fuzz/last-$target.log" | grep -E "^(==|#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY|ERROR|Test unit written)" || true
  # libFuzzer ends a run that found nothing with "Done N runs"; anything else is a finding.
  grep -q "^Done [0-9]* runs" "fuzz/last-$target.log" || {
    echo "fuzz target $target failed: see fuzz/last-$target.log" >&2
    exit 1
  }
done
