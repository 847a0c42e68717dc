#!/usr/bin/env bash
# Installs what Relais needs from Debian 12's packages (only the missing ones), then configures and
# builds into ./build. Idempotent: a second run only rebuilds what changed.
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo), JOBS (default 2),
# RELAIS_CMAKE_ARGS (extra cmake arguments, e.g. -DRELAIS_SANITIZE=address,undefined),
# EXTRA_PACKAGES (more Debian packages, e.g. clang for scripts/fuzz.sh), BUILD_TARGETS (build only
# these targets instead of everything).
set -euo pipefail
cd "$(dirname "$0")/.."

# faketime: the clock-skew tests run the real `relais` with a shifted clock. iproute2: `ip` and `tc`
# for the poor-link test, which makes its own network namespace (tests/e2e/poor_link.h). clang-tidy:
# scripts/tidy.sh. libsodium: the record digests of the divergence check (BLAKE2b). libunistring:
# Unicode normalisation (NFC) of every text that enters. libmicrohttpd-dev (with GnuTLS): the centre's
# event-driven front and its TLS (server/front.h). nginx, openssl, curl: the reverse-proxy test
# runs docs/deploy/nginx-relais.conf unprivileged in a temp folder, with a test CA (tests/e2e/proxy_test.cc).
# chromium: the annual report's PDF is printed from its HTML by headless Chromium (stats/pdf.h), in
# DejaVu Sans (fonts-dejavu-core), and the report test loads the HTML in it; poppler-utils:
# pdftotext and pdfinfo read that PDF back. libkainjow-mustache-dev: the templates of `relais ui`
# (client/ui/); chromium-driver: its browser test drives Chromium through WebDriver (tests/e2e/webdriver.h).
PACKAGES=(build-essential cmake pkg-config python3 ca-certificates
  libsqlite3-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libdeflate-dev nlohmann-json3-dev catch2
  libcpp-httplib-dev libcli11-dev libbrotli-dev sqlite3 libpq-dev postgresql libsodium-dev libunistring-dev
  libmicrohttpd-dev faketime iproute2 clang-tidy nginx openssl curl chromium fonts-dejavu-core poppler-utils
  chromium-driver libkainjow-mustache-dev
  ${EXTRA_PACKAGES:-})

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "Installation des paquets manquants : ${missing[*]}" >&2
  $SUDO apt-get update -qq
  # No service starts because a package was installed (nginx would take port 80): Debian's
  # policy-rc.d forbids it for this apt-get, unless the system has a policy of its own.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; trap - EXIT; fi
  # Nor at the next boot: the tests run their own nginx.
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now nginx >&2 || true
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${RELAIS_CMAKE_ARGS:-} >&2
if [ -n "${BUILD_TARGETS:-}" ]; then
  # shellcheck disable=SC2086 # a list of target names
  cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target ${BUILD_TARGETS} >&2
else
  cmake --build "$BUILD_DIR" -j "${JOBS:-2}" >&2
fi
