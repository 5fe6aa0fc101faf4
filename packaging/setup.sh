#!/usr/bin/env bash
# Keepflow set-up: installs what a fresh Debian 12 lacks (only what is missing), configures,
# builds, then does one job:
#   packaging/setup.sh demo   build and start the desktop app on a demo database (failures,
#                             retries, fallbacks, partial success, an approval, an uncertain step)
#   packaging/setup.sh test   build and run the whole test suite
#   packaging/setup.sh build  only build
#   packaging/setup.sh package  build the Debian package (preset package: optimised, under /usr,
#                             no tests; Debian's hardening flags) and print the .deb's path
#   packaging/setup.sh sanitize  build the engine, its tests and the fuzz targets with clang's
#                             AddressSanitizer + UndefinedBehaviorSanitizer (preset asan), run
#                             those tests, then fuzz each target for KEEPFLOW_FUZZ_SECONDS (60)
# Environment: KEEPFLOW_PRESET (default: release; CI uses ci; not for package), KEEPFLOW_DEMO_DB.
set -euo pipefail

job=${1:-build}
case "$job" in
  build | test | demo | sanitize | package) ;;
  *) echo "setup: unknown job '$job' (build, test, demo, sanitize or package)" >&2; exit 1 ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
preset=${KEEPFLOW_PRESET:-release}
[ "$job" = sanitize ] && preset=asan
[ "$job" = package ] && preset=package

# Build tools and libraries, by Debian package name.
packages=(
  build-essential cmake ninja-build ccache git pkg-config ca-certificates
  qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite
  libsqlite3-dev sqlite3 procps
  # The desktop app: SVG state glyphs, charts, graph layout, an X11 platform plugin and a font.
  qt6-svg-dev libqcustomplot-dev libgraphviz-dev qt6-qpa-plugins fonts-dejavu-core
  # {{secrets.NAME}} from the desktop's keyring.
  qtkeychain-qt6-dev
  # PostgreSQL: Qt SQL's driver for it, and the server the tests start for themselves.
  libqt6sql6-psql postgresql
  # The reference: man pages from scdoc; the test of the flow file JSON Schema.
  scdoc python3-jsonschema
)
if [ "$job" = sanitize ]; then
  # clang with its sanitizer and libFuzzer runtimes.
  packages+=(clang libclang-rt-14-dev)
fi
if [ "$job" = test ]; then
  # The checks of what the package installs: the desktop entry (desktop-file-validate), the
  # AppStream metadata (appstreamcli), keepflowctl's bash completion (bash-completion) and the
  # worker's systemd units (systemd-analyze). Without them those tests are skipped.
  packages+=(desktop-file-utils appstream bash-completion systemd)
fi
if [ "$job" = package ]; then
  # CPack's Debian generator: dpkg-shlibdeps computes the dependencies, file finds the programs,
  # dpkg-buildflags gives Debian's hardening flags.
  packages+=(dpkg-dev file)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may never have fetched the package lists.
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ccache: paths relative to the checkout and no build folder in the hash, so that another
# checkout (a CI clone) reuses what this one compiled; only the debug info's build folder may
# then name the other checkout.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
configure=()
if [ "$job" = package ]; then
  # The flags Debian builds its packages with: fortified functions, stack protector,
  # read-only relocations, bind now. Without -g (the package is stripped) and without
  # -ffile-prefix-map=CHECKOUT=. (and its debug-info form), which would make ccache miss in
  # every other checkout.
  export DEB_BUILD_MAINT_OPTIONS="hardening=+all reproducible=-fixfilepath,-fixdebugpath"
  export DEB_CXXFLAGS_MAINT_STRIP=-g
  configure+=(
    "-DCMAKE_CXX_FLAGS=$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
    "-DCMAKE_EXE_LINKER_FLAGS=$(dpkg-buildflags --get LDFLAGS)"
  )
fi
cmake --preset "$preset" "${configure[@]}" >/dev/null
# The demo needs only the desktop app and keepflowctl (packaging/demo.sh); the other jobs build
# everything their preset has (test: the tests and benchmarks too).
targets=()
[ "$job" = demo ] && targets=(--target keepflow keepflowctl)
cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}"
build_dir="build/$preset"

case "$job" in
  build) ;;
  package)
    rm -f "$build_dir"/keepflow_*.deb
    cpack --preset package >/dev/null
    debs=("$here/$build_dir"/keepflow_*.deb)
    if [ ! -f "${debs[0]}" ]; then
      echo "setup: cpack made no keepflow_*.deb in $build_dir" >&2
      exit 1
    fi
    printf '%s\n' "${debs[0]}"
    ;;
  test)
    ctest --preset "$preset"
    ;;
  sanitize)
    ctest --preset asan
    packaging/fuzz.sh "${KEEPFLOW_FUZZ_SECONDS:-60}"
    ;;
  demo)
    app="$here/$build_dir/app/keepflow/keepflow"
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" = "" ]; then
      echo "setup: no display (DISPLAY and WAYLAND_DISPLAY are unset): the desktop demo needs one." >&2
      echo "setup: on a server, try: xvfb-run -a $app --demo, or the headless demo: packaging/demo.sh $build_dir" >&2
      exit 1
    fi
    exec "$app" --demo
    ;;
esac
