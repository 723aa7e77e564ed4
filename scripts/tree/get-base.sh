#!/bin/bash
# Extract Debian's linux-source-6.12 tarball into a git tree and tag the
# untouched source as "base": the commit the series is formatted against.
# LINUX_TARBALL and LINUX_PACKAGE ("name version") name another Debian
# source tarball, for the trees of other kernels (scripts/build/upstream-kernel.sh).
set -euo pipefail

tree=${1:?usage: get-base.sh TREE}
tarball=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}

if git -C "$tree" rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	exit 0
fi

[ -r "$tarball" ] || { echo "get-base: $tarball missing (apt-get install ${LINUX_PACKAGE:-linux-source-6.12})" >&2; exit 1; }

rm -rf "$tree"
mkdir -p "$tree"
echo "get-base: extracting $tarball"
"$(dirname "$0")/extract-tarball.sh" "$tarball" "$tree"
cd "$tree"

git init -q -b master
git config user.name "$(git -C "$OLDPWD" config user.name || echo builder)"
git config user.email "$(git -C "$OLDPWD" config user.email || echo builder@localhost)"
git add -A
version=$(make -s kernelversion 2>/dev/null || echo 6.12)
package=${LINUX_PACKAGE:-linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)}
name=${package%% *}
# A fixed author and date make the base commit a function of the tarball
# alone, so that every extraction gets the base-commit the cover letter names.
GIT_AUTHOR_NAME="Debian $name" GIT_AUTHOR_EMAIL="$name@debian" \
GIT_COMMITTER_NAME="Debian $name" GIT_COMMITTER_EMAIL="$name@debian" \
GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git commit -q -m "Linux $version from Debian $package" \
		-m "The source tarball as installed in /usr/src, with the packaging block of .gitignore removed."
git tag base
echo "get-base: $tree at base $(git rev-parse --short base) ($version)"
