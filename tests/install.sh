#!/bin/sh
# make test-install: `make install DESTDIR=...` into temporary trees, and
# the tree checked:
#  - PREFIX=/usr: every file in its place with its mode, the binary runs,
#    the unit's ExecStart and ExecReload name PREFIX's binary and
#    SYSCONFDIR's agent.conf, agent.conf is the example (0640);
#  - PREFIX=/usr/local with an agent.conf already there: it is left alone,
#    the unit follows the PREFIX, SBINDIR= moves the binary and the unit's
#    paths with it, fail2ban files (a stand-in contrib/fail2ban through
#    F2B_SRC) land in SYSCONFDIR/fail2ban/, and make uninstall removes all
#    but agent.conf;
#  - when systemd-analyze is installed: `systemd-analyze verify` of the
#    installed unit is clean and its exposure (systemd-analyze security
#    --offline=true) is at most 5.0;
#  - when bash is installed: the installed completion, with a stand-in
#    sendguard whose status --json names hostile identities, offers them
#    quoted and runs none of them.
# Prints one line per check and "install: N passed, N failed"; exit 1 on a
# failure.  Needs build/sendguard (the make target builds it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # what command...
	what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-install.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# mode FILE - its permission bits in octal, e.g. 644
mode() { stat -c %a "$1" 2>/dev/null; }
# has FILE MODE - FILE is a regular file with that mode
has() {
	if [ ! -f "$1" ]; then echo "    missing: $1"; return 1; fi
	m=$(mode "$1")
	[ "$m" = "$2" ] || { echo "    $1: mode $m, want $2"; return 1; }
}
# unit_line UNIT KEY N - the value of the Nth KEY= line of UNIT
unit_line() { sed -n "s/^$2=//p" "$1" | sed -n "${3}p"; }
# same A B - the lines are equal, else both are shown
same() {
	[ "$1" = "$2" ] && return 0
	echo "    got:  $1"; echo "    want: $2"; return 1
}

# --- PREFIX=/usr -------------------------------------------------------------
d=$tmp/usr
if ! make -s install PREFIX=/usr DESTDIR="$d" >"$tmp/log" 2>&1; then
	cat "$tmp/log"; bad "make install PREFIX=/usr"
else
	ok "make install PREFIX=/usr"
fi
check "binary /usr/sbin/sendguard 0755" has "$d/usr/sbin/sendguard" 755
check "binary runs: sendguard $version" \
	same "$("$d/usr/sbin/sendguard" --version 2>&1)" "sendguard $version"
check "man page sendguard.8 0644" has "$d/usr/share/man/man8/sendguard.8" 644
check "man page sendguard.conf.5 0644" has "$d/usr/share/man/man5/sendguard.conf.5" 644
unit=$d/lib/systemd/system/sendguard.service
check "unit /lib/systemd/system/sendguard.service 0644" has "$unit" 644
check "unit ExecStart is /usr/sbin/sendguard run -f with /etc/sendguard/agent.conf" \
	same "$(unit_line "$unit" ExecStart 1)" "/usr/sbin/sendguard run -f -c /etc/sendguard/agent.conf"
check "unit ExecReload checks the config first, then SIGHUP" \
	same "$(unit_line "$unit" ExecReload 1) | $(unit_line "$unit" ExecReload 2)" \
	"/usr/sbin/sendguard check-config -c /etc/sendguard/agent.conf | /bin/kill -HUP \$MAINPID"
check "unit has no @NAME@ left" sh -c "! grep -q '@[A-Z]*@' '$unit'"
check "completion /usr/share/bash-completion/completions/sendguard 0644" \
	has "$d/usr/share/bash-completion/completions/sendguard" 644
check "agent.conf.example 0644" has "$d/etc/sendguard/agent.conf.example" 644
check "agent.conf 0640" has "$d/etc/sendguard/agent.conf" 640
check "agent.conf is the example" cmp -s "$d/etc/sendguard/agent.conf" agent.conf.example
for f in contrib/fail2ban/*/*.conf; do
	[ -f "$f" ] || continue
	sub=${f#contrib/fail2ban/}
	check "fail2ban $sub in /etc/fail2ban/ 0644" has "$d/etc/fail2ban/$sub" 644
done
n=$(find "$d" -type f | wc -l)
want=7
for f in contrib/fail2ban/*/*.conf; do [ -f "$f" ] && want=$((want + 1)); done
check "nothing else installed ($want files)" same "$n" "$want"

# --- PREFIX=/usr/local, an existing agent.conf, fail2ban files --------------
d=$tmp/local
mkdir -p "$d/etc/sendguard" "$tmp/f2b/filter.d" "$tmp/f2b/jail.d"
echo "# mine, edited" >"$d/etc/sendguard/agent.conf"
chmod 600 "$d/etc/sendguard/agent.conf"
echo "[Definition]" >"$tmp/f2b/filter.d/sendguard.conf"
echo "[sendguard]" >"$tmp/f2b/jail.d/sendguard.conf"
if ! make -s install DESTDIR="$d" F2B_SRC="$tmp/f2b" >"$tmp/log" 2>&1; then
	cat "$tmp/log"; bad "make install (PREFIX=/usr/local)"
else
	ok "make install (PREFIX=/usr/local)"
fi
check "an existing agent.conf is not overwritten" \
	same "$(cat "$d/etc/sendguard/agent.conf") $(mode "$d/etc/sendguard/agent.conf")" "# mine, edited 600"
check "install says it kept agent.conf" grep -q "keeping the existing" "$tmp/log"
check "agent.conf.example is still installed" has "$d/etc/sendguard/agent.conf.example" 644
unit=$d/usr/local/lib/systemd/system/sendguard.service
check "unit in /usr/local/lib/systemd/system" has "$unit" 644
check "unit ExecStart is /usr/local/sbin/sendguard" \
	same "$(unit_line "$unit" ExecStart 1)" "/usr/local/sbin/sendguard run -f -c /etc/sendguard/agent.conf"
check "binary /usr/local/sbin/sendguard" has "$d/usr/local/sbin/sendguard" 755
check "completion under /usr/local/share" \
	has "$d/usr/local/share/bash-completion/completions/sendguard" 644
check "fail2ban filter.d file to /etc/fail2ban/filter.d" has "$d/etc/fail2ban/filter.d/sendguard.conf" 644
check "fail2ban jail.d file to /etc/fail2ban/jail.d" has "$d/etc/fail2ban/jail.d/sendguard.conf" 644
make -s uninstall DESTDIR="$d" F2B_SRC="$tmp/f2b" >"$tmp/log" 2>&1
check "make uninstall leaves only agent.conf" \
	same "$(find "$d" -type f | sed "s|^$d||")" "/etc/sendguard/agent.conf"

d=$tmp/sbin
make -s install PREFIX=/usr SBINDIR=/opt/sg/bin SYSCONFDIR=/etc/opt DESTDIR="$d" >"$tmp/log" 2>&1
check "SBINDIR and SYSCONFDIR reach the unit" \
	same "$(unit_line "$d/lib/systemd/system/sendguard.service" ExecStart 1)" \
	"/opt/sg/bin/sendguard run -f -c /etc/opt/sendguard/agent.conf"
check "SBINDIR receives the binary" has "$d/opt/sg/bin/sendguard" 755
check "SYSCONFDIR receives agent.conf" has "$d/etc/opt/sendguard/agent.conf" 640

# --- the unit, by systemd ----------------------------------------------------
unit=$tmp/usr/lib/systemd/system/sendguard.service
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the ExecStart binary to exist: the same unit, pointing
	# into the DESTDIR, with the man pages of Documentation= found there
	mkdir -p "$tmp/verify"
	sed "s|/usr/sbin/sendguard|$tmp/usr/usr/sbin/sendguard|g" "$unit" >"$tmp/verify/sendguard.service"
	man=--man=no
	command -v man >/dev/null 2>&1 && man=--man=yes
	if MANPATH=$tmp/usr/usr/share/man systemd-analyze verify $man \
		"$tmp/verify/sendguard.service" >"$tmp/log" 2>&1 && ! [ -s "$tmp/log" ]; then
		ok "systemd-analyze verify $man: clean"
	else
		cat "$tmp/log"; bad "systemd-analyze verify $man: clean"
	fi
	systemd-analyze security --offline=true "$unit" >"$tmp/sec" 2>&1
	# "→ Overall exposure level for sendguard.service: 2.2 OK 🙂"
	x=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p' "$tmp/sec")
	if [ -n "$x" ] && awk -v x="$x" 'BEGIN { exit !(x <= 5.0) }'; then
		ok "exposure $x <= 5.0 (systemd-analyze security --offline=true)"
	else
		grep '✗' "$tmp/sec"; tail -n 1 "$tmp/sec"; bad "exposure ${x:-unknown} <= 5.0"
	fi
else
	echo "skip - systemd-analyze not installed: unit not verified"
fi

# --- the completion, by bash -------------------------------------------------
if command -v bash >/dev/null 2>&1; then
	mkdir -p "$tmp/bin"
	# a stand-in sendguard: status --json with identities that would run a
	# command, quote or split if anything evaluated them
	cat >"$tmp/bin/sendguard" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/args"
cat <<'J'
{"blocked": [
  {"identity": "sasl:alice@example.com", "rule": "r\"}{[", "until": null},
  {"identity": "sasl:\$(touch $tmp/pwned)\`touch $tmp/pwned\`", "rule": "r"},
  {"rule": "r", "identity": "sender:we\"ird\\\\name b@x.org"}],
 "on_hold": [{"identity": "sasl:carol@example.org", "held": 2}],
 "failing_actions": [{"id": 1, "identity": "sasl:not-offered@x", "action": "notify"}],
 "counts": [{"identity": "ip:2001:db8::7", "rule": "r"}],
 "daemon": {"running": true, "position": {"dev": 1}}}
J
EOF
	chmod 755 "$tmp/bin/sendguard"
	cat >"$tmp/comp.bash" <<'EOF'
complete() { :; }
compopt() { :; }
. "$1"
t() { COMP_LINE=$1; COMP_POINT=${#1}; _sendguard; printf '%s =>' "$1"; printf ' [%s]' "${COMPREPLY[@]}"; echo; }
t 'sendguard unb'
t 'sendguard unblock '
t 'sendguard unblock sasl:c'
t 'sendguard explain ip:2001:d'
t 'sendguard unblock -c /x.conf sender:'
t 'sendguard block sa'
t 'sendguard audit --format=c'
t 'sendguard unblock --re'
EOF
	PATH=$tmp/bin:$PATH bash "$tmp/comp.bash" \
		"$tmp/usr/usr/share/bash-completion/completions/sendguard" >"$tmp/comp" 2>&1
	cat >"$tmp/comp.want" <<'EOF'
sendguard unb => [unblock]
sendguard unblock  => [sasl:alice@example.com] [sasl:\$\(touch\ TMP/pwned\)\`touch\ TMP/pwned\`] [sender:we\"ird\\name\ b@x.org] [sasl:carol@example.org]
sendguard unblock sasl:c => [carol@example.org]
sendguard explain ip:2001:d => [db8::7]
sendguard unblock -c /x.conf sender: => [we\"ird\\name\ b@x.org]
sendguard block sa => [sasl:] [sasl_domain:]
sendguard audit --format=c => [csv]
sendguard unblock --re => [--release-held]
EOF
	sed "s|TMP|$tmp|g" "$tmp/comp.want" >"$tmp/comp.want2"
	if diff -u "$tmp/comp.want2" "$tmp/comp" >"$tmp/diff"; then
		ok "completion: commands, options, identities from status --json, quoted"
	else
		cat "$tmp/diff"; bad "completion: commands, options, identities from status --json, quoted"
	fi
	check "completion evaluated no identity" test ! -e "$tmp/pwned"
	check "completion passed -c FILE to status" grep -qx -- "status -c /x.conf --json" "$tmp/args"
else
	echo "skip - bash not installed: completion not tried"
fi

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
