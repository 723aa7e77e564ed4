#!/bin/bash
# Quality gates on patches/, run in a fresh worktree of TREE's base:
#  1. the series applies with git am on the base of TREE, the installed
#     linux-source-6.12 (the base-commit the cover letter names, or
#     another 6.12.y);
#  2. checkpatch --strict finds nothing but the MAINTAINERS reminder for a
#     new file in a directory MAINTAINERS already covers (and cannot look
#     up the ids of Fixes: tags in a tree without history);
#  3. every patch builds in order (bisectable): every kernel object it
#     changes (vmlinux_o: vmlinux.a and its partial link; the Image is
#     linked at each part boundary), then W=1 and sparse (C=2) on the
#     kernel .c files it touches, with no warning for those files; the KVM
#     selftests when it touches them; and the KVM API documentation
#     (htmldocs for Documentation/virt) when it touches it, with no
#     warning for the lines it adds to the .rst file;
#  4. every part boundary (the fixes alone, the fixes and the core, with
#     each hardening kernel change and its test, the whole series) builds
#     the Image and the KVM selftests. The tests meant for each boundary
#     run in negative-controls.sh (core, core with the race fix, the
#     series without each fix) and in the main run (the whole series);
#  5. the series applies with git am on the oldest 6.12.y Debian offers
#     (bookworm-backports and trixie; 6.12.95 when this was written) and
#     builds the Image there: everything else runs on the installed
#     linux-source-6.12, the newest;
#  6. what the docs say of the series (patch numbers, subjects, parts, case
#     counts) is what the series has (scripts/check/doc-check.py).
set -euo pipefail

# Debian's python3 has the modules checkpatch (ply) and htmldocs (sphinx)
# need; a python3 earlier in PATH (pyenv, venv) may not.
export PATH=/usr/bin:$PATH

tree=$(realpath "${1:?usage: gates.sh TREE PATCHDIR BUILD}")
patchdir=$(realpath "$2")
build=$(realpath "$3")
top=$(realpath "$(dirname "$0")/../..")
gate=$build/gate
log=$build/gate-logs
rm -rf "$log"
mkdir -p "$log"

# Each build takes the build lock, so that the test hosts make check boots
# beside the gates wait for no more than one build
locked=(flock "${BUILD_LOCK:?the build lock: run it with make gates}")
kmake=("${locked[@]}" "$top/scripts/build/kmake.sh" "$gate")
fail=0
gate_fail() { echo "gates: FAIL: $*"; fail=1; }

mapfile -t patches < <(grep -v '^#' "$patchdir/series" | sed '/^$/d')
core=$("$top/scripts/tree/series-core.sh" "$patchdir")
fixes=$("$top/scripts/tree/series-core.sh" --fixes "$patchdir")
if ! grep -qx '# hardening' "$patchdir/series" || [ "$core" -eq 0 ]; then
	gate_fail "patches/series has no '# hardening' line after the core"
	core=${#patches[@]}
fi
if grep -qx '# fixes' "$patchdir/series" && [ "$fixes" -eq 0 ]; then
	gate_fail "patches/series has a '# fixes' part but no '# core' line after it"
fi

# 1. git am on the base, in a worktree of TREE (a fresh checkout of the
# base tag get-base.sh made from the installed tarball)
rm -rf "$gate"
"$top/scripts/build/worktree.sh" "$tree" "$gate" base
# A 6.12.y newer (or older) than the one the cover letter was formatted on
# is what a user gets from Debian on any day: the series is tested on it,
# and only a patch that does not apply or build fails.
want=$(sed -n 's/^base-commit: //p' "$patchdir/0000-cover-letter.patch")
have=$(git -C "$gate" rev-parse base)
package=$(git -C "$gate" log -1 --format=%s base | sed 's/.* from Debian //')
version=$(make -s -C "$gate" kernelversion)
if [ "$want" = "$have" ]; then
	echo "gates: base: $version ($package), the cover letter's base-commit"
else
	echo "gates: base: $version ($package), not the cover letter's base-commit ${want:0:12}: testing the series on it"
fi
installed="linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)"
[ "$package" = "$installed" ] ||
	echo "gates: note: $tree was extracted from $package, the installed one is $installed (rm -rf $tree to test that)"
if (cd "$patchdir" && git -C "$gate" am -q "${patches[@]/#/$patchdir/}") > "$log/am.log" 2>&1; then
	echo "gates: git am: ${#patches[@]} patches apply on base $(git -C "$gate" rev-parse --short base)"
else
	cat "$log/am.log"
	gate_fail "git am"
	exit 1
fi

# 2. checkpatch. The base is a release tarball without git history, so
# checkpatch cannot look up the upstream commits that Fixes: tags name
# (UNKNOWN_COMMIT_ID): each tag quotes the subject with the id, both taken
# from upstream's history.
# One checkpatch per core at a time: each is a single-threaded perl run.
printf '%s\0' "${patches[@]}" | (cd "$gate" && xargs -0 -P "$(nproc)" -I{} \
	sh -c './scripts/checkpatch.pl --strict -q --ignore UNKNOWN_COMMIT_ID "$1/$2" > "$3/checkpatch-$2.log" 2>&1 || true' \
	checkpatch "$patchdir" {} "$log")
for p in "${patches[@]}"; do
	grep -v 'added, moved or deleted file(s), does MAINTAINERS need updating' \
		"$log/checkpatch-$p.log" | grep -A3 -E '^(ERROR|WARNING|CHECK):' \
		> "$log/checkpatch-$p.findings" || true
	if [ -s "$log/checkpatch-$p.findings" ]; then
		cat "$log/checkpatch-$p.findings"
		gate_fail "checkpatch --strict: $p"
	fi
done
for p in "${patches[@]}"; do
	grep -q '^Signed-off-by: ' "$patchdir/$p" || gate_fail "$p has no Signed-off-by"
done
[ $fail -eq 0 ] && echo "gates: checkpatch --strict: clean on ${#patches[@]} patches"

# 3. build every step
# Debian 12's sparse (0.6.4) rejects the ISA extensions in the kernel's
# -march (rv64ima_zicsr_zifencei); what sparse checks does not depend on
# them, so give it the base ISA.
sparse=$build/sparse-riscv
cat > "$sparse" <<'WRAP'
#!/bin/bash
args=()
for a in "$@"; do
	case "$a" in
	-march=*_*) args+=("${a%%_*}") ;;
	*) args+=("$a") ;;
	esac
done
exec sparse "${args[@]}"
WRAP
chmod +x "$sparse"
"${locked[@]}" "$top/scripts/build/kconfig.sh" "$gate" "$top/arch/riscv/configs/kvm_susp_host.config"
commits=$(git -C "$gate" rev-list --reverse base..HEAD)
# Part boundaries: end of the fixes, end of the core, before each
# hardening kernel change after the first one, end of the series
boundaries=" $core "
[ "$fixes" -gt 0 ] && boundaries+="$fixes "
n=0
for c in $commits; do
	n=$((n + 1))
	if [ $n -gt $((core + 1)) ] &&
	   git -C "$gate" diff --name-only "$c^" "$c" | grep -q '^arch/riscv/kvm/'; then
		boundaries+="$((n - 1)) "
	fi
done
boundaries+="$n "
n=0
for c in $commits; do
	n=$((n + 1))
	subject=$(git -C "$gate" log -1 --format=%s "$c")
	git -C "$gate" checkout -q "$c"
	step_start=$SECONDS
	step=$log/step-$n
	mapfile -t files < <(git -C "$gate" diff --name-only --diff-filter=AM "$c^" "$c")
	# Every object the patch changes is compiled (vmlinux_o); the Image
	# is linked at each part boundary. A patch of only selftests and docs
	# leaves the kernel as it was.
	if [[ "$boundaries" == *" $n "* ]]; then
		image=Image
	elif git -C "$gate" diff --name-only "$c^" "$c" | grep -qvE '^(tools|Documentation)/'; then
		image=vmlinux_o
	else
		image=
	fi
	if [ -n "$image" ] && ! "${kmake[@]}" -s $image > "$step-image.log" 2>&1; then
		tail -20 "$step-image.log"
		gate_fail "patch $n does not build: $subject"
		continue
	fi
	image=${image:-kernel unchanged}
	objs=()
	for f in "${files[@]}"; do
		case "$f" in
		tools/*|Documentation/*|scripts/*) ;;
		*.c) objs+=("${f%.c}.o") ;;
		esac
	done
	if [ ${#objs[@]} -gt 0 ]; then
		# C=2 checks the named files even if they are up to date
		"${kmake[@]}" W=1 C=2 CHECK="$sparse" "${objs[@]}" > "$step-w1-sparse.log" 2>&1 ||
			gate_fail "patch $n: W=1 build failed: $subject"
		for o in "${objs[@]}"; do
			if grep -E "^${o%.o}\.c:[0-9]+:[0-9]+: (warning|error)" "$step-w1-sparse.log"; then
				gate_fail "patch $n: W=1/sparse warnings in ${o%.o}.c"
			fi
		done
	fi
	if [[ "$boundaries" == *" $n "* ]] ||
	   printf '%s\n' "${files[@]}" | grep -q '^tools/testing/selftests/kvm/'; then
		if ! "${locked[@]}" "$top/scripts/build/build-selftests.sh" "$gate" "$build/gate-hdr" \
			"$build/gate-selftests" > "$step-selftests.log" 2>&1; then
			tail -20 "$step-selftests.log"
			gate_fail "patch $n: selftests do not build: $subject"
		fi
	fi
	for f in "${files[@]}"; do
		case "$f" in
		Documentation/virt/*.rst)
			# sphinx rereads what changed since the last patch's run
			if ! "${kmake[@]}" SPHINXDIRS=virt htmldocs > "$step-htmldocs.log" 2>&1; then
				tail -20 "$step-htmldocs.log"
				gate_fail "patch $n: htmldocs failed"
			else
				# The base has its own findings in big files like
				# api.rst: only those on lines this patch added count.
				ranges=$(git -C "$gate" diff -U0 "$c^" "$c" -- "$f" |
					sed -n 's/^@@ .* +\([0-9]*\),*\([0-9]*\) @@.*/\1 \2/p')
				grep -E "$f:[0-9]+: (WARNING|ERROR)" "$step-htmldocs.log" |
				awk -F: -v ranges="$ranges" '
					BEGIN { n = split(ranges, r, "\n") }
					{
						for (i = 1; i <= n; i++) {
							split(r[i], sc, " ")
							count = sc[2] == "" ? 1 : sc[2]
							if ($2 >= sc[1] && $2 < sc[1] + count)
								print
						}
					}' > "$step-htmldocs.new" || true
				if [ -s "$step-htmldocs.new" ]; then
					cat "$step-htmldocs.new"
					gate_fail "patch $n: htmldocs findings in lines it adds to $f"
				fi
			fi ;;
		esac
	done
	echo "gates: patch $n builds ($image${objs:+, W=1+sparse on ${objs[*]}}," \
	     "$((SECONDS - step_start)) s): $subject"
	if [[ "$boundaries" == *" $n "* ]]; then
		part="fixes and core"
		[ $n -le "$fixes" ] && part=fixes
		[ $n -gt "$core" ] && part="fixes, core + $((n - core)) hardening patches"
		echo "gates: part boundary after patch $n ($part): Image and selftests build"
	fi
done

# 5. the oldest 6.12.y. Its tarball is kept in build/ between runs; the
# tree is extracted afresh each time, into a worktree of TREE whose files
# it replaces: committed there, on top of TREE's base, it shares every
# object the two releases have in common, so that git writes only what
# differs.
oldest=$build/oldest-612
if [ ! -s "$oldest-src/packages" ]; then
	rm -rf "$oldest-src"
	DEBIAN_FETCH_PICK=oldest "$top/scripts/setup/debian-fetch.sh" "$oldest-src" \
		bookworm-backports,trixie linux-source-6.12 > "$log/oldest-fetch.log" 2>&1 ||
		{ cat "$log/oldest-fetch.log"; gate_fail "fetching the oldest linux-source-6.12"; }
fi
if [ -s "$oldest-src/packages" ]; then
	package=$(head -n 1 "$oldest-src/packages")
	step_start=$SECONDS
	rm -rf "$oldest"
	"$top/scripts/build/worktree.sh" "$tree" "$oldest" base
	find "$oldest" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
	"$top/scripts/tree/extract-tarball.sh" "$oldest-src"/usr/src/linux-source-6.12.tar.xz "$oldest"
	git -C "$oldest" add -A
	git -C "$oldest" commit -q -m "Linux from Debian $package"
	if ! (cd "$patchdir" && git -C "$oldest" am -q "${patches[@]/#/$patchdir/}") \
		> "$log/oldest-am.log" 2>&1; then
		cat "$log/oldest-am.log"
		gate_fail "git am on $package"
	elif ! { "${locked[@]}" "$top/scripts/build/kconfig.sh" "$oldest" "$top/arch/riscv/configs/kvm_susp_host.config" &&
		 "${locked[@]}" "$top/scripts/build/kmake.sh" "$oldest" -s Image; } > "$log/oldest-image.log" 2>&1; then
		tail -20 "$log/oldest-image.log"
		gate_fail "the series does not build on $package"
	else
		echo "gates: $package ($(make -s -C "$oldest" kernelversion)): ${#patches[@]} patches apply and the Image builds ($((SECONDS - step_start)) s)"
	fi
fi

# 6. the docs against the series
docs=("$top/README.md" "$top"/Documentation/*.md "$patchdir/0000-cover-letter.patch"
      "$top"/tools/tests/*.patch "$top"/tools/tests/*.list)
if (cd "$top" && "$top/scripts/check/doc-check.py" "$gate" "$patchdir" "${docs[@]#"$top"/}") \
	> "$log/doc-check.log" 2>&1; then
	echo "gates: docs: patch numbers, subjects, parts and case counts match the series"
else
	cat "$log/doc-check.log"
	gate_fail "docs disagree with the series"
fi

if [ $fail -ne 0 ]; then
	echo "gates: FAILED (logs in $log)"
	exit 1
fi
echo "gates: all passed in $SECONDS s"
