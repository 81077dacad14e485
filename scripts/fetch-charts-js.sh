#!/usr/bin/env bash
# Fetches TradingView's lightweight-charts (Apache-2.0) from the npm registry, once, for the charts'
# interactive HTML: `ktrdrd` inlines its standalone build into every generated page, so a page
# needs no network when opened. The version is pinned and the tarball's sha512 is checked against
# the value committed here (the same `integrity` npm records in lock files) before anything is
# unpacked. Idempotent: prints the directory and does nothing when it is already in place.
#
#   scripts/fetch-charts-js.sh          # -> ~/.cache/ktrdr/lightweight-charts-5.3.0
#
# The daemon finds it through the `chart.js_dir` setting (KTRDR_CHART_JS_DIR), whose default is
# this directory under $XDG_CACHE_HOME (~/.cache).
set -euo pipefail

VERSION=5.3.0
INTEGRITY='sha512-w16fu2/FteUkIJdgc9G2tOCKs1fwFSqnqF8+kMgHGv0uGIfcfpEJhziSaQbML1yrkbeg4nQXV3msjmhBzhLNhw=='
JS=lightweight-charts.standalone.production.js

cache=${XDG_CACHE_HOME:-$HOME/.cache}/ktrdr
dest=${KTRDR_CHART_JS_DIR:-$cache/lightweight-charts-$VERSION}

if [[ -f $dest/$JS && -f $dest/LICENSE && -f $dest/VERSION ]] && [[ $(cat "$dest/VERSION") == "$VERSION" ]]; then
  echo "fetch-charts-js: lightweight-charts $VERSION already in $dest" >&2
  echo "$dest"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-charts-js: npm is missing (scripts/system-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$(dirname "$dest")/.fetch-charts-js.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-charts-js: npm pack lightweight-charts@$VERSION" >&2
(cd "$work" && npm pack --silent "lightweight-charts@$VERSION" >/dev/null)
tarball=$work/lightweight-charts-$VERSION.tgz
[[ -f $tarball ]] || { echo "fetch-charts-js: npm pack did not produce $tarball" >&2; exit 1; }

got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ $got != "$INTEGRITY" ]]; then
  echo "fetch-charts-js: integrity mismatch for lightweight-charts@$VERSION" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  got      $got" >&2
  exit 1
fi

mkdir "$work/out"
tar -xzf "$tarball" -C "$work" package/LICENSE "package/dist/$JS"
mv "$work/package/dist/$JS" "$work/package/LICENSE" "$work/out/"
echo "$VERSION" >"$work/out/VERSION"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "fetch-charts-js: lightweight-charts $VERSION (integrity checked) in $dest" >&2
echo "$dest"
