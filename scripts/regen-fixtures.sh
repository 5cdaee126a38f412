#!/usr/bin/env bash
# Regenerates fixtures/exports and fixtures/truth with `civhub synth`, as
# fixtures/README.md describes. Run after changing schemas/, pipelines/ or
# civhub-synth; the test `fixtures_are_what_synth_makes` fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet -- synth --persons 300 --seed 7 --out "$tmp/city"
rm -rf fixtures/exports fixtures/truth
mkdir -p fixtures
cp -r "$tmp/city/exports" fixtures/exports
cp -r "$tmp/city/truth" fixtures/truth
echo "fixtures regenerated: $(find fixtures/exports -type f | wc -l) export files"
