#!/bin/bash
# Download Debian packages from SUITE(s) of the machine's own archive and
# extract them into DIR, without installing anything: apt-get download
# with a private sources list, lists and cache, then dpkg-deb -x. The
# system's apt and dpkg state stay as they are.
#
#   debian-fetch.sh DIR SUITES PACKAGE...
#
# SUITES is comma-separated (bookworm-backports, or
# trixie-backports,sid). A PACKAGE that is an extended regular expression
# between slashes, /^linux-source-7\.[0-9]+$/, stands for the package of
# that name with the highest version in SUITES. Each PACKAGE is taken at
# its highest version there, or its lowest with DEBIAN_FETCH_PICK=oldest.
# DIR/packages lists what
# was extracted ("name version"). The archive is the one apt uses for
# the machine's own release: apt-get indextargets gives its address
# whatever form the sources take (one-line sources.list, deb822 files).
set -euo pipefail

usage="usage: debian-fetch.sh DIR SUITES PACKAGE..."
dir=${1:?$usage}
suites=${2:?$usage}
shift 2
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }

. /etc/os-release
release=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
uri=$(apt-get indextargets --format '$(REPO_URI)' "Release: $release" \
	'Target-Of: deb' 'Created-By: Packages' | head -n 1)
[ -n "$uri" ] || { echo "debian-fetch: apt has no $release archive (apt-get indextargets)" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$dir/debs" "$dir/.apt/lists/partial" "$dir/.apt/cache/archives/partial"
apt=$(cd "$dir/.apt" && pwd)
: > "$apt/sources.list"
for suite in ${suites//,/ }; do
	echo "deb [signed-by=$keyring] $uri $suite main" >> "$apt/sources.list"
done
# -c comes after apt.conf.d: drop the update hooks (PackageKit, appstream)
# meant for the system's own lists.
printf '#clear APT::Update::%s;\n' Pre-Invoke Post-Invoke Post-Invoke-Success > "$apt/apt.conf"
opts=(-q -c "$apt/apt.conf"
      -o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
      -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
      -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
      -o APT::Sandbox::User=root)

echo "debian-fetch: fetching $* from $suites"
if ! apt-get "${opts[@]}" update > "$apt/update.log" 2>&1; then
	cat "$apt/update.log" >&2
	for suite in ${suites//,/ }; do
		ls "$apt/lists/"*"_dists_${suite}_"*Release > /dev/null 2>&1 ||
			echo "debian-fetch: the archive $uri has no suite $suite" >&2
	done
	exit 1
fi

# "name version" of every package of the given names, the one to take first
# (r in the key itself: sort ignores a global -r for a key with its own V)
order=r
[ "${DEBIAN_FETCH_PICK:-newest}" = oldest ] && order=
candidates() {
	apt-cache "${opts[@]}" madison "$@" |
		awk -F' *[|] *' '{ sub(/^ */, "", $1); print $1, $2 }' | sort -k2,2V$order
}

targets=()
for p in "$@"; do
	if [[ $p == /*/ ]]; then
		re=${p:1:-1}
		names=$(apt-cache "${opts[@]}" pkgnames | grep -E "$re" || true)
		[ -n "$names" ] || { echo "debian-fetch: nothing matches $p in $suites" >&2; exit 1; }
		# shellcheck disable=SC2086
		read -r n v < <(candidates $names)
	else
		read -r n v < <(candidates "$p") ||
			{ echo "debian-fetch: no $p in $suites" >&2; exit 1; }
	fi
	targets+=("$n=$v")
done

(cd "$dir/debs" && apt-get "${opts[@]}" download "${targets[@]}")
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir"
	dpkg-deb -f "$deb" Package Version | paste -sd ' ' | sed 's/^Package: //; s/ Version: / /'
done | tee "$dir/packages"
rm -rf "$apt"
