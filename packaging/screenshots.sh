#!/usr/bin/env bash
# Takes the README's screenshots: the desktop demo under Xvfb grabs its main screens into
# resources/screenshots/ (about 30 s). Needs xvfb (xvfb-run) and a built keepflow.
#   packaging/screenshots.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-build/release}
app="$here/$build_dir/app/keepflow/keepflow"
out="$here/resources/screenshots"
command -v xvfb-run >/dev/null || { echo "screenshots: install xvfb (apt-get install xvfb)" >&2; exit 1; }
[ -x "$app" ] || { echo "screenshots: build first: $app is missing" >&2; exit 1; }
mkdir -p "$out"
# A throwaway home: the demo database and the remembered window layout stay out of the user's.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
shoot() { # theme, output folder, screen size
  HOME="$scratch" XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" KEEPFLOW_THEME="$1" \
    xvfb-run -a -s "-screen 0 ${3:-1600x1000}x24" "$app" --demo --screenshots "$2"
}
shoot light "$out"
# The run page on a small laptop screen too: the window must fit and still show names.
rm -rf "$scratch/data" "$scratch/config"
shoot light "$scratch/small" 1280x720
cp "$scratch/small/partial-success.png" "$out/partial-success-1280x720.png"
rm -rf "$scratch/data" "$scratch/config"
# The dark palette once, on the screen with the most states.
shoot dark "$scratch/dark"
cp "$scratch/dark/partial-success.png" "$out/dark.png"
# The editor on a copy of the demo flow.
cp "$here/resources/demo/release-train.flow.json" "$scratch/release-train.flow.json"
HOME="$scratch" XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" KEEPFLOW_THEME=light \
  xvfb-run -a -s "-screen 0 1600x1000x24" "$app" --edit "$scratch/release-train.flow.json" \
  --db "$scratch/editor.db" --screenshots "$out"
ls -1 "$out"
