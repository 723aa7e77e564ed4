#!/bin/bash
# Fetch QEMU 10.0 and OpenSBI 1.5.1 from Debian's bookworm-backports and
# extract them into DIR (default build/qemu10), next to the system's QEMU
# 7.2 and without installing anything: apt-get download with a private
# sources list and private lists and cache, then dpkg-deb -x. The system's
# apt and dpkg state stay as they are. scripts/run-qemu.sh boots the test
# host on this QEMU with QEMU=DIR. Nothing to do when DIR has the binary.
#
# qemu-system-riscv holds qemu-system-riscv64 (qemu-system-misc only
# depends on it); qemu-system-common its modules, qemu-system-data its data
# and opensbi the firmware that -bios default finds under -L. run-qemu.sh
# passes -audio none to it: without, QEMU 10 probes the audio drivers and
# loads modules (audio, spice, opengl) that live in qemu-system-gui and
# qemu-system-modules-*, and whichever is missing here it would take from
# QEMU 7.2's directory and abort ("Only modules from the same build can be
# loaded").
set -euo pipefail

dir=${1:-build/qemu10}
suite=bookworm-backports
pkgs=(qemu-system-riscv qemu-system-common qemu-system-data opensbi)
bin=usr/bin/qemu-system-riscv64

[ -x "$dir/$bin" ] && exit 0
if [ -e "$dir" ] && ! rmdir "$dir" 2>/dev/null; then
	echo "qemu10: $dir exists without $bin; remove it first" >&2
	exit 1
fi

# The main archive of the machine's apt sources (deb822): the stanza whose
# Suites has the release itself, e.g. "bookworm bookworm-updates".
sources=/etc/apt/sources.list.d/debian.sources
read -r uri keyring < <(awk -v RS= '
	/(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ {
		u = ""; k = "/usr/share/keyrings/debian-archive-keyring.gpg"
		n = split($0, l, "\n")
		for (i = 1; i <= n; i++) {
			if (l[i] ~ /^URIs:/) { split(l[i], f, " "); u = f[2] }
			if (l[i] ~ /^Signed-By:/) { split(l[i], f, " "); k = f[2] }
		}
		if (u != "") { print u, k; exit }
	}' "$sources")
[ -n "${uri:-}" ] || { echo "qemu10: no bookworm archive in $sources" >&2; exit 1; }

new=$dir.new
rm -rf "$new"
mkdir -p "$new/debs" "$new/.apt/lists/partial" "$new/.apt/cache/archives/partial"
apt=$(cd "$new/.apt" && pwd)
echo "deb [signed-by=$keyring] $uri $suite main" > "$apt/sources.list"
# -c comes after apt.conf.d: drop the update hooks (PackageKit, appstream)
# meant for the system's own lists.
printf '#clear APT::Update::%s;\n' Pre-Invoke Post-Invoke Post-Invoke-Success > "$apt/apt.conf"
opts=(-q -c "$apt/apt.conf"
      -o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
      -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
      -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
      -o APT::Sandbox::User=root)

echo "qemu10: fetching ${pkgs[*]} from $suite"
apt-get "${opts[@]}" update > "$apt/update.log" ||
	{ cat "$apt/update.log" >&2; exit 1; }
targets=()
for p in "${pkgs[@]}"; do
	targets+=("$p/$suite")
done
(cd "$new/debs" && apt-get "${opts[@]}" download "${targets[@]}")
for deb in "$new"/debs/*.deb; do
	dpkg-deb -x "$deb" "$new"
	dpkg-deb -f "$deb" Package Version | paste -sd ' ' | sed 's/^Package: //; s/ Version: / /'
done | tee "$new/packages"
rm -rf "$apt"

# Built for Debian 12: the binary must run with the system's libraries.
missing=$(ldd "$new/$bin" | awk '/not found/ { print $1 }')
if [ -n "$missing" ]; then
	echo "qemu10: $bin lacks libraries: $missing" >&2
	exit 1
fi
"$new/$bin" --version | head -n 1
mv "$new" "$dir"
echo "qemu10: $(cd "$dir" && pwd)/$bin"
