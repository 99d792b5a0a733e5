#!/usr/bin/env bash
# The Debian packages the portal needs at run time beyond Python wheels: WeasyPrint's Pango /
# HarfBuzz / fontconfig libraries and the Noto CJK fonts (every report downloads as a PDF, in the
# embedded default too). Installed with apt-get when missing and running as root; otherwise the
# missing packages are named and the script fails, so a PDF never fails later at request time.
set -euo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-noto-cjk)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages: not a Debian system; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" != "0" ]; then
  echo "system packages: missing ${missing[*]}; install them as root:" >&2
  echo "  apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system packages: installing ${missing[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
