#!/usr/bin/env bash
# Checks the Debian package as a user would meet it: builds it (packaging/setup.sh package),
# runs lintian on it (any error fails), then installs it with apt into a fresh Debian 12 root
# (debootstrap --variant=minbase) and there, as an unprivileged user, runs the example flows
# with keepflowctl (exit codes per the contract) and asks both programs for their version.
#
# Runs as root (debootstrap, chroot, mounts). The fresh root is made once and kept as a
# tarball, with the packages apt downloaded, in KEEPFLOW_CHECK_CACHE (default:
# build/check-package); each run unpacks a copy of it, so nothing of one run is left for the
# next. The Debian mirror is the one apt is configured with (KEEPFLOW_CHECK_MIRROR overrides).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
started=$SECONDS
say() { echo "check-package: $*"; }
die() {
  echo "check-package: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: it installs into a fresh root with debootstrap and chroot"
missing=()
for package in lintian debootstrap; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 1. The package.
deb=$(packaging/setup.sh package | tail -n 1)
[ -f "$deb" ] || die "packaging/setup.sh package printed no package ('$deb')"
say "package: $deb ($(stat -c %s "$deb") bytes)"

# 2. lintian: errors fail; warnings and infos are shown.
say "lintian $(lintian --version | cut -d' ' -f2)"
lintian --display-info --fail-on error "$deb"
say "lintian: no errors"

# 3. A fresh Debian 12 root.
cache=${KEEPFLOW_CHECK_CACHE:-$here/build/check-package}
mkdir -p "$cache/archives/partial"
mirror=${KEEPFLOW_CHECK_MIRROR:-}
if [ -z "$mirror" ]; then
  # The first Debian (not security) mirror of apt's sources, one-line or deb822 format.
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:[^ ]*\) bookworm .*/\2/p' \
      -e 's/^URIs: *\(https\{0,1\}:[^ ]*\).*/\1/p' | grep -v security | head -n 1) || true
  mirror=${mirror:-http://deb.debian.org/debian}
fi
pristine=$cache/bookworm-minbase.tar
if [ ! -f "$pristine" ]; then
  say "making a Debian 12 root from $mirror (once; kept in $pristine)"
  building=$(mktemp -d "$cache/building.XXXXXX")
  debootstrap --variant=minbase bookworm "$building" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed: see $cache/debootstrap.log"
  tar -C "$building" -cf "$pristine.part" .
  rm -rf "$building"
  mv "$pristine.part" "$pristine"
fi
root=$(mktemp -d "$cache/root.XXXXXX")
mounted=()
cleanup() {
  local point
  for point in "${mounted[@]}"; do
    umount "$point" 2>/dev/null || umount -l "$point" || true
  done
  rm -rf "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$pristine"
chmod 0755 "$root" # mktemp's 0700 (also the tarball's) would keep the user out of /
for point in proc dev; do
  case $point in
    proc) mount -t proc proc "$root/proc" ;;
    dev) mount --bind /dev "$root/dev" ;;
  esac
  mounted=("$root/$point" "${mounted[@]}")
done
# apt's downloads outlive the root, so that the next run fetches nothing again.
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
mounted=("$root/var/cache/apt/archives" "${mounted[@]}")
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No service starts inside the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"

# 4. Install it as a user would: apt resolves what dpkg-shlibdeps and the package list.
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
in_root apt-get update -q >"$cache/apt.log" 2>&1 || die "apt-get update failed: see $cache/apt.log"
say "apt-get install ./$(basename "$deb") in a fresh Debian 12 root"
if ! in_root sh -c "cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends ./$(basename "$deb")" >>"$cache/apt.log" 2>&1; then
  tail -n 30 "$cache/apt.log" >&2
  die "installing the package failed: see $cache/apt.log"
fi
for file in /usr/bin/keepflow /usr/bin/keepflowctl \
  /usr/share/applications/io.keepflow.Keepflow.desktop \
  /usr/share/metainfo/io.keepflow.Keepflow.metainfo.xml \
  /usr/share/icons/hicolor/scalable/apps/io.keepflow.Keepflow.svg \
  /usr/share/bash-completion/completions/keepflowctl \
  /usr/lib/systemd/user/keepflow-worker.service \
  /usr/lib/systemd/system/keepflow-worker@.service \
  /usr/share/doc/keepflow/copyright /usr/share/doc/keepflow/changelog.Debian.gz; do
  [ -e "$root$file" ] || die "the package did not install $file"
done
unresolved=$(in_root sh -c 'ldd /usr/bin/keepflow /usr/bin/keepflowctl | grep "not found"') || true
[ -z "$unresolved" ] || die "libraries the programs need are missing: $unresolved"

# 5. As an unprivileged user with a home of its own.
in_root useradd --create-home --shell /bin/sh flowuser
# By number: chroot may look names up outside the root.
user=$(in_root id -u flowuser):$(in_root id -g flowuser)
as_user() {
  chroot --userspec="$user" "$root" env -i HOME=/home/flowuser USER=flowuser \
    PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
}
examples=/usr/share/doc/keepflow/examples
# Both run offline: incident-runbook succeeds after its retries and fallback (0);
# nightly-pipeline completes with one step failed for good (2).
for expected in incident-runbook:0 nightly-pipeline:2; do
  flow=${expected%:*}
  status=0
  as_user keepflowctl run "$examples/$flow.flow.json" >"$cache/$flow.log" 2>&1 || status=$?
  if [ "$status" -ne "${expected#*:}" ]; then
    tail -n 30 "$cache/$flow.log" >&2
    die "keepflowctl run $examples/$flow.flow.json exited $status, not ${expected#*:}"
  fi
  say "keepflowctl run $examples/$flow.flow.json: exit $status, as it should"
done
as_user keepflowctl list
say "$(as_user keepflowctl --version)"
# keepflow answers --version once the desktop app has that option; until then its --help must
# at least start (the libraries and Qt's plugins are there).
help=$(as_user env QT_QPA_PLATFORM=offscreen keepflow --help 2>&1) ||
  die "keepflow --help failed: $help"
if grep -q -- --version <<<"$help"; then
  say "$(as_user env QT_QPA_PLATFORM=offscreen keepflow --version 2>&1)"
else
  say "keepflow --help answers (it has no --version yet)"
fi

say "all checks passed in $((SECONDS - started)) s"
