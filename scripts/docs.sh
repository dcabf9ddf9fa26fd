#!/usr/bin/env bash
# The docs check: renders docs/grid.html and docs/grid.md (and, when the run checked objects,
# docs/check-grid.html and .md) from a matrix results directory (default build/matrix, written by
# matrix/run.py) and takes a headless chromium screenshot of the page top
# (docs/grid.png; chromium comes from `scripts/install-deps.sh`).
#   scripts/docs.sh [RESULTS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-build/matrix}
[ -f "$results/summary.json" ] || { echo "docs: no $results/summary.json (run matrix/run.py first)"; exit 2; }
tmp=$(mktemp -d /tmp/bpfprobe-docs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Render from a copy: the results directory itself is left as run.py wrote it.
cp "$results/summary.json" "$tmp/"
for report in "$results"/*/report.json "$results"/*/check.json "$results"/*/check-static.json; do
  [ -e "$report" ] || continue
  mkdir -p "$tmp/$(basename "$(dirname "$report")")"
  cp "$report" "$tmp/$(basename "$(dirname "$report")")/"
done
python3 matrix/grid.py "$tmp" --docs docs
if compgen -G "$tmp/*/check.json" >/dev/null; then python3 matrix/object_grid.py "$tmp" --docs docs; fi
python3 tests/matrix/grid_test.py
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "docs: no chromium for the screenshot (scripts/install-deps.sh)"
  exit 1
fi
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2000 \
  --screenshot="$PWD/docs/grid.png" "file://$PWD/docs/grid.html" 2>/dev/null
echo "docs: docs/grid.html docs/grid.md docs/grid.png"
