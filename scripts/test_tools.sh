#!/usr/bin/env bash
# What the test suite needs beyond Python packages: Debian's Chromium (Playwright cannot download
# its own browser here), GNU gettext (the translation-completeness test runs makemessages) and
# poppler-utils (the PDF tests read the rendered text back with pdftotext).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then echo "test tools: install ${missing[*]} (apt-get)" >&2; exit 1; fi
  echo "test tools: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
