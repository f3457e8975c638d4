#!/bin/sh
# make lint: banned calls, then cppcheck, clang-tidy and clang-format when installed
# (sh .ci/install-deps --lint installs them).
set -u
cd "$(dirname "$0")/.."
rc=0
src=$(ls util/*.[ch] parsers/*.[ch] store/*.[ch] count/*.[ch] actions/*.[ch] cluster/*.[ch] agent/*.[ch] bench/*.c 2>/dev/null)
banned='\b(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|gets|atoi|sscanf|system|popen)[[:space:]]*\('
if grep -nE "$banned" $src tests/*.c | grep -vE '(snprintf|vsnprintf)[[:space:]]*\('; then
	echo "lint: banned call(s) above"; rc=1
fi
if command -v cppcheck >/dev/null 2>&1; then
	cppcheck -q --error-exitcode=1 --enable=warning,portability --inline-suppr \
		-I. -D_GNU_SOURCE $src || rc=1
fi
# clang-tidy: every warning fails the lint.  Left out: checks that only
# restate the project's choices (easily-swappable-parameters, unchecked
# fclose/fputs results of cert-err33-c, reserved-identifier for _GNU_SOURCE)
# and not-null-terminated-result, which flags the byte-string keys of the
# hash maps and the tracker (they carry explicit lengths by design).
if command -v clang-tidy >/dev/null 2>&1; then
	checks='--checks=-*,bugprone-*,cert-*,clang-analyzer-*,performance-*,-bugprone-easily-swappable-parameters,-cert-err33-c,-bugprone-reserved-identifier,-cert-dcl37-c,-cert-dcl51-cpp,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-bugprone-not-null-terminated-result'
	flags="-std=c11 -D_GNU_SOURCE -DSG_VERSION=\"lint\" -I. $(pkg-config --cflags libpcre2-8 sqlite3 zlib libpq)"
	for f in $(ls util/*.c parsers/*.c store/*.c count/*.c actions/*.c cluster/*.c agent/*.c 2>/dev/null); do
		clang-tidy -quiet "$checks" --warnings-as-errors='*' "$f" -- $flags 2>/dev/null || rc=1
	done
	# count/source.c once more as built with ISA-L (the loop above took its zlib branch)
	if pkg-config --exists libisal; then
		clang-tidy -quiet "$checks" --warnings-as-errors='*' count/source.c -- $flags -DHAVE_ISAL 2>/dev/null || rc=1
	fi
fi
if command -v clang-format >/dev/null 2>&1 && [ -f .clang-format ]; then
	clang-format --dry-run -Werror $src || rc=1
fi
exit $rc
