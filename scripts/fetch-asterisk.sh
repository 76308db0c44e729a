#!/bin/sh
# Fetches the Asterisk the test suite runs against (test/support/asterisk.ts) into a cache directory outside the
# repository, without installing anything: Debian 12 has no asterisk package, so Debian unstable's (Asterisk 22) is
# downloaded with its whole dependency closure (sid's glibc included) through a private apt state, and each .deb is
# unpacked with `dpkg-deb -x` into one tree. The harness runs that tree's asterisk through the tree's own dynamic
# loader, so no library of the host is used and no service is started.
#
#   $CALLHOOK_TEST_CACHE/asterisk            a symbolic link to the current tree (default cache: ~/.cache/callhook-test)
#   $CALLHOOK_TEST_CACHE/asterisk-<version>  the unpacked tree; `.complete` marks it whole
#
# A complete tree is reused without touching the network; remove the link to fetch sid's current version again.
# Prints the tree's path.
set -eu

cache=${CALLHOOK_TEST_CACHE:-${HOME}/.cache/callhook-test}
link="$cache/asterisk"
if [ -f "$link/.complete" ]; then
  readlink -f "$link"
  exit 0
fi
# One fetch at a time (test runs in several checkouts share the cache); the one that waited finds the tree done.
mkdir -p "$cache"
exec 9>"$cache/.fetch.lock"
flock 9
if [ -f "$link/.complete" ]; then
  readlink -f "$link"
  exit 0
fi

# The host's own mirror, suite sid; keys from Debian's archive keyring (debian-archive-keyring, in every Debian).
mirror=${CALLHOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
apt_dir="$cache/apt-sid"
mkdir -p "$apt_dir/etc/preferences.d" "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" >"$apt_dir/etc/sources.list"
# Dir::State::status=/dev/null: apt sees nothing installed, so the closure it computes is complete (libc6 too).
set -- \
  -o "Dir::Etc=$apt_dir/etc" -o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list" -o Dir::Etc::sourceparts=- \
  -o "Dir::State=$apt_dir/state" -o Dir::State::status=/dev/null -o "Dir::Cache=$apt_dir/cache" \
  -o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Debug::NoLocking=1 \
  -o APT::Install-Recommends=false -o APT::Sandbox::User=root

echo "fetch-asterisk: reading sid's package lists from $mirror" >&2
apt-get "$@" update -qq >&2
version=$(apt-cache "$@" show asterisk | sed -n 's/^Version: //p' | head -n 1)
[ -n "$version" ] || { echo "fetch-asterisk: no asterisk package in sid" >&2; exit 1; }
tree="$cache/asterisk-$(echo "$version" | tr ':~' '__')"

echo "fetch-asterisk: downloading asterisk $version and its dependencies" >&2
apt-get "$@" install -qq --download-only -y asterisk >&2

echo "fetch-asterisk: $(ls "$apt_dir"/cache/archives/*.deb | wc -l) packages, $(du -sh "$apt_dir/cache/archives" | cut -f1); unpacking" >&2
rm -rf "$tree.partial"
mkdir -p "$tree.partial"
for deb in "$apt_dir"/cache/archives/*.deb; do
  dpkg-deb -x "$deb" "$tree.partial"
done
rm -rf "$tree"
mv "$tree.partial" "$tree"
echo "$version" >"$tree/.complete"
ln -sfn "$(basename "$tree")" "$link"
# The .debs are unpacked; keep the package lists (small) but not the archives.
rm -f "$apt_dir"/cache/archives/*.deb
echo "$tree"
