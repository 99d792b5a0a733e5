#!/usr/bin/env bash
# Refresh the vendored front-end files under static/vendor/.
#
# The minified files are committed on purpose: a fresh machine running
# `make run` (or building the Docker image) may have no node/npm at all.
# Only run this script when you want to bump a vendored version; it needs
# node + npm and network access to the npm registry.
set -euo pipefail

HTMX_VERSION="2.0.11"
ECHARTS_VERSION="6.1.0"

# package@version  file inside the package  name under static/vendor/
PACKAGES=(
    "htmx.org ${HTMX_VERSION} dist/htmx.min.js htmx.min.js"
    "echarts ${ECHARTS_VERSION} dist/echarts.min.js echarts.min.js"
)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR_DIR="${REPO_ROOT}/static/vendor"

BUILD_DIR="$(mktemp -d)"
trap 'rm -rf "${BUILD_DIR}"' EXIT

SPECS=()
for entry in "${PACKAGES[@]}"; do
    read -r name version _file _target <<<"${entry}"
    SPECS+=("${name}@${version}")
done

echo "Fetching ${SPECS[*]} in ${BUILD_DIR} ..."
(
    cd "${BUILD_DIR}"
    echo '{"name": "vendor-static-build", "private": true}' > package.json
    npm install --no-save --no-audit --no-fund --ignore-scripts "${SPECS[@]}"
)

mkdir -p "${VENDOR_DIR}"
VERSION_LINES=""
for entry in "${PACKAGES[@]}"; do
    read -r name version file target <<<"${entry}"
    SRC="${BUILD_DIR}/node_modules/${name}/${file}"
    if [[ ! -s "${SRC}" ]]; then
        echo "error: ${SRC} is missing or empty" >&2
        exit 1
    fi
    # Make sure npm really gave us the version we asked for.
    INSTALLED_VERSION="$(node -p "require('${BUILD_DIR}/node_modules/${name}/package.json').version")"
    if [[ "${INSTALLED_VERSION}" != "${version}" ]]; then
        echo "error: expected ${name} ${version}, npm installed ${INSTALLED_VERSION}" >&2
        exit 1
    fi
    cp "${SRC}" "${VENDOR_DIR}/${target}"
    VERSION_LINES+="${name} ${version} ${file} -> static/vendor/${target} (npm; refreshed by scripts/vendor_static.sh)"$'\n'
    echo "Vendored ${name} ${version} -> static/vendor/${target}"
done

printf '%s' "${VERSION_LINES}" > "${VENDOR_DIR}/VERSIONS.txt"
