#!/usr/bin/env bash
# `make fuzz`: runs each cargo-fuzz target for FUZZ_SECONDS (default 60). Not part of CI.
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them, since no nightly toolchain can be installed here.
set -euo pipefail
seconds="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in sniff upload_body list_query; do
  echo "== fuzzing $target for ${seconds}s"
  cargo fuzz run "$target" -- -max_total_time="$seconds" -max_len=8192
done
