#!/usr/bin/env bash
# Dev-time only: refreshes web/vendor/ (committed, built into the binary by
# crates/server/src/api/web.rs) from the exact versions in web/package-lock.json.
# Nothing of npm is needed to build or run the service.
set -euo pipefail
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund
rm -rf vendor && mkdir -p vendor
for pkg in d3-array d3-geo topojson-client; do
  cp "node_modules/$pkg/dist/$pkg.min.js" vendor/
  cp "node_modules/$pkg/LICENSE" "vendor/$pkg.LICENSE"
done
cp node_modules/world-atlas/countries-50m.json vendor/
cp node_modules/world-atlas/LICENSE vendor/world-atlas.LICENSE
ls -l vendor
