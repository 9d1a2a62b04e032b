#!/usr/bin/env bash
# Sets up edepot in this checkout: the system packages it needs (as root on Debian), then a virtual
# environment at .venv with edepot and its test tools. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

system_packages=(python3-venv fonts-dejavu-core fonts-noto-color-emoji ffmpeg time clamav clamav-daemon tesseract-ocr tesseract-ocr-nld tesseract-ocr-eng chromium poppler-utils postgresql-15 gettext)
# npm fetches htmx; a machine with its own node and npm keeps them
command -v npm >/dev/null 2>&1 || system_packages+=(nodejs npm)
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${system_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "setup: installing ${missing[*]}" >&2
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "setup: please install as root: apt-get install ${missing[*]}" >&2
    fi
  fi
fi

# PostgreSQL's tests start a throwaway cluster of their own; a cluster the package made (Debian's 15/main) is
# stopped, so nothing this checkout does not own listens on 5432.
if command -v pg_lsclusters >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  pg_lsclusters --no-header 2>/dev/null | while read -r version name port status _; do
    if [ "$port" = "5432" ] && [ "${status%%,*}" = "online" ]; then
      echo "setup: stopping the PostgreSQL cluster $version/$name on port 5432" >&2
      pg_ctlcluster "$version" "$name" stop || true
    fi
  done
fi

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && \
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python="$candidate"; break
  fi
done
[ -n "$python" ] || { echo "setup: Python 3.11 or newer is needed" >&2; exit 2; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "is ignored: it is neither" >&2 || true
.venv/bin/python -c 'import edepot.cli' || { echo "setup: edepot did not install" >&2; exit 1; }

# htmx for the web's screens, from the npm registry into a git-ignored static folder (packed into the wheel when
# it is built; never committed). Fetched once; run setup again after removing the folder to fetch it anew.
htmx_dir=edepot/web/static/vendor/htmx
if [ ! -s "$htmx_dir/htmx.min.js" ]; then
  command -v npm >/dev/null 2>&1 || { echo "setup: npm is needed for htmx (apt-get install npm)" >&2; exit 1; }
  scratch="$(mktemp -d)"
  (cd "$scratch" && npm install --silent --no-audit --no-fund --no-save --prefix "$scratch" htmx.org@2 >/dev/null)
  mkdir -p "$htmx_dir"
  cp "$scratch/node_modules/htmx.org/dist/htmx.min.js" "$scratch/node_modules/htmx.org/LICENSE" "$htmx_dir/"
  rm -rf "$scratch"
fi

# the screens' translations, compiled from the committed .po files (the .mo files are not committed)
for po in edepot/web/locale/*/LC_MESSAGES/django.po; do
  [ -f "$po" ] || continue
  mo="${po%.po}.mo"
  if [ ! -s "$mo" ] || [ "$po" -nt "$mo" ]; then msgfmt -o "$mo" "$po"; fi
done
