#!/bin/sh
# install-config.sh - meson install script: put the example config in place as
# <sysconfdir>/portmux/portmux.json only when no config is there yet, so that a reinstall
# never overwrites an operator's edits (the example itself is always installed beside it as
# portmux.json.example). Usage (from conf/meson.build): install-config.sh ETC_DIR.
# meson 1.0 shows what it prints only when it fails (meson install --dry-run skips it).
set -eu
etc=$1
# meson gives DESTDIR+prefix and the prefix: what precedes the prefix is the DESTDIR
destdir=${MESON_INSTALL_DESTDIR_PREFIX%"$MESON_INSTALL_PREFIX"}
dir=$destdir$etc
if [ -e "$dir/portmux.json" ]; then
	if cmp -s "$dir/portmux.json" "$dir/portmux.json.example"; then
		echo "Keeping $dir/portmux.json (the example, unedited)"
	else
		echo "Keeping $dir/portmux.json (edited: compare with portmux.json.example)"
	fi
	exit 0
fi
install -m 0644 "$dir/portmux.json.example" "$dir/portmux.json"
echo "Installing $dir/portmux.json (from portmux.json.example)"
