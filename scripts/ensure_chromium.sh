#!/usr/bin/env bash
# Make sure the browser tests have a Chromium, and say which one and how it got here.
# Order: $CHROMIUM_PATH, a system Chromium, Debian's package (when root with apt-get),
# Playwright's own download (where the internet allows). Prints the path it settled on
# last, on its own line, so `make test` can hand it to the tests as CHROMIUM_PATH.
set -uo pipefail

say() { printf 'chromium: %s\n' "$*" >&2; }
PY=${PY:-.venv/bin/python}

system_chromium() {
  local name
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  say "using CHROMIUM_PATH=$CHROMIUM_PATH"
  echo "$CHROMIUM_PATH"; exit 0
fi

if path=$(system_chromium); then
  say "using the system Chromium at $path ($("$path" --version 2>/dev/null | head -1))"
  echo "$path"; exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "no system Chromium; installing Debian's package (apt-get install chromium)"
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
     && path=$(system_chromium); then
    say "installed Debian's chromium at $path"
    echo "$path"; exit 0
  fi
  say "Debian's package could not be installed"
fi

say "trying Playwright's own Chromium download ($PY -m playwright install chromium)"
if "$PY" -m playwright install chromium >&2; then
  path=$("$PY" - <<'PYEOF'
from playwright.sync_api import sync_playwright
with sync_playwright() as pw:
    print(pw.chromium.executable_path)
PYEOF
  )
  if [ -n "$path" ] && [ -x "$path" ]; then
    say "downloaded Playwright's Chromium to $path"
    echo "$path"; exit 0
  fi
fi

say "no Chromium could be found or installed: the browser tests will fail."
say "Install one (Debian: apt-get install chromium) or set CHROMIUM_PATH."
exit 1
