#!/usr/bin/env bash
# Refresh the vendored front-end files under static/vendor/.
#
# The minified files are committed on purpose: a fresh machine running
# `make run` (or building the Docker image) may have no node/npm at all.
# Only run this script when you want to bump a vendored version; it needs
# node + npm and network access to the npm registry.
set -euo pipefail

HTMX_VERSION="2.0.11"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR_DIR="${REPO_ROOT}/static/vendor"

BUILD_DIR="$(mktemp -d)"
trap 'rm -rf "${BUILD_DIR}"' EXIT

echo "Fetching htmx.org@${HTMX_VERSION} in ${BUILD_DIR} ..."
(
    cd "${BUILD_DIR}"
    echo '{"name": "vendor-static-build", "private": true}' > package.json
    npm install --no-save --no-audit --no-fund "htmx.org@${HTMX_VERSION}"
)

SRC="${BUILD_DIR}/node_modules/htmx.org/dist/htmx.min.js"
if [[ ! -s "${SRC}" ]]; then
    echo "error: ${SRC} is missing or empty" >&2
    exit 1
fi

# Make sure npm really gave us the version we asked for.
INSTALLED_VERSION="$(node -p "require('${BUILD_DIR}/node_modules/htmx.org/package.json').version")"
if [[ "${INSTALLED_VERSION}" != "${HTMX_VERSION}" ]]; then
    echo "error: expected htmx.org ${HTMX_VERSION}, npm installed ${INSTALLED_VERSION}" >&2
    exit 1
fi

mkdir -p "${VENDOR_DIR}"
cp "${SRC}" "${VENDOR_DIR}/htmx.min.js"

cat > "${VENDOR_DIR}/VERSIONS.txt" <<VERSIONS
htmx.org ${HTMX_VERSION} (npm; refreshed by scripts/vendor_static.sh)
VERSIONS

echo "Vendored htmx.org ${HTMX_VERSION} -> static/vendor/htmx.min.js"
