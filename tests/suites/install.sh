#!/usr/bin/env bash
# install.sh - suite: `meson install` into a DESTDIR puts binaries, the client library with its
# pkg-config file, headers, the systemd unit and the example config where distributions expect
# them, a reinstall keeps an edited config, and a program builds and links against the
# installed library (tools/install-test.sh).
set -u
exec bash "$(dirname "$0")/../../tools/install-test.sh"
