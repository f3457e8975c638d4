#!/bin/bash
# End-to-end: a throwaway Postfix 3.7 instance with Cyrus SASL on loopback,
# driven by swaks and /usr/sbin/sendmail, with sendguard enforcing against
# it through the real postsuper, postmap and postfix.  Run as root (`make
# e2e`); needs postfix sasl2-bin libsasl2-modules swaks python3 (.ci/install-deps
# --e2e).  Mail to @test.example and @example.org goes to a dead relay port and
# stays deferred; mail to @bounce.example goes to tests/e2e/sink550.py, which
# refuses every recipient with 550, so Postfix bounces it.
# Prints one line per check and closes with "e2e: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SG=${SG_BIN:-$top/build/sendguard}
pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "ok   - $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

if [ "$(id -u)" -ne 0 ]; then echo "e2e: must run as root" >&2; exit 2; fi
for p in /usr/sbin/postfix /usr/sbin/postsuper /usr/sbin/postmap /usr/sbin/saslpasswd2 /usr/bin/swaks /usr/bin/python3; do
	[ -x "$p" ] || { echo "e2e: $p missing (sh .ci/install-deps --e2e)" >&2; exit 2; }
done

D=$(mktemp -d /tmp/sg-e2e.XXXXXX)
chmod 755 "$D"
PORT=$((20000 + RANDOM % 20000))
DEAD=$((PORT + 1))
SINK=$((PORT + 2))
SGPID=""
SINKPID=""
created_main=0
cleanup() {
	[ -n "$SGPID" ] && kill "$SGPID" 2>/dev/null && wait "$SGPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null && wait "$SINKPID" 2>/dev/null
	postfix -c "$D/etc" stop >/dev/null 2>&1
	sleep 0.5
	pkill -f "master -c $D/etc" 2>/dev/null
	pkill -f "$D/etc" 2>/dev/null
	[ "$created_main" = 1 ] && rm -f /etc/postfix/main.cf
	[ -n "${SG_E2E_KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$D/etc" "$D/queue" "$D/data" "$D/sasl" "$D/sg"
chown postfix "$D/data"
# set-gid programs (sendmail/postdrop for a non-root user) only honour a
# config directory listed in the default main.cf
if [ ! -e /etc/postfix/main.cf ]; then
	printf 'alternate_config_directories = %s\n' "$D/etc" > /etc/postfix/main.cf
	created_main=1
fi

cat > "$D/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = $D/maillog
maillog_file_prefixes = $D
relayhost = [127.0.0.1]:$DEAD
transport_maps = hash:$D/etc/transport
smtp_connect_timeout = 2s
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $D/sasl
smtpd_relay_restrictions = check_sasl_access hash:$D/etc/sasl_access, permit_sasl_authenticated, reject
smtpd_recipient_restrictions =
authorized_submit_users = static:anyone
CF
cat > "$D/etc/master.cf" <<CF
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n' > "$D/sasl/smtpd.conf"
for u in alice bob carol dave erin; do
	echo "secret-$u" | saslpasswd2 -p -c -u test.example "$u"
done
chgrp postfix /etc/sasldb2 2>/dev/null; chmod 640 /etc/sasldb2
: > "$D/etc/sasl_access"
postmap -c "$D/etc" "hash:$D/etc/sasl_access"
printf 'bounce.example smtp:[127.0.0.1]:%s\n' "$SINK" > "$D/etc/transport"
postmap -c "$D/etc" "hash:$D/etc/transport"
/usr/bin/python3 "$top/tests/e2e/sink550.py" "$SINK" 2>"$D/sink.log" &
SINKPID=$!
if ! postfix -c "$D/etc" start >"$D/start.log" 2>&1; then
	cat "$D/start.log"; bad "postfix starts"; echo "e2e: $pass passed, $((fail)) failed"; exit 1
fi
for i in $(seq 50); do [ -s "$D/maillog" ] && break; sleep 0.1; done

write_conf() { # mode
	cat > "$D/sg/agent.conf" <<CF
[agent]
log = $D/maillog
state = $D/sg/state.db
socket = $D/sg/ctl.sock
mode = $1
start_at = end
postfix_config_dir = $D/etc
# maillog_file writes the first label of myhostname (mx.test.example)
hostname = mx
retention = 1d
action_timeout = 20s

[limit submission]
by = sasl
messages = 5/1h
actions = hold, block, notify
block_time = 1h

[limit bounces]
by = sasl
bounces = 3/1h
actions = hold, block
block_time = 1h

[limit local]
by = uid
messages = 5/1h
actions = hold, notify
block_time = 1h

[action block]
sasl_map = $D/etc/sasl_access
sender_map = $D/etc/sender_access
map_type = hash
reply = 450 4.7.1 Sending rate limit exceeded, contact the postmaster

[action notify]
to = postmaster@test.example
CF
}

start_sg() {
	"$SG" run -f -c "$D/sg/agent.conf" 2>>"$D/sg/daemon.log" &
	SGPID=$!
	for i in $(seq 100); do "$SG" status -c "$D/sg/agent.conf" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_sg() { [ -n "$SGPID" ] && kill "${1:--TERM}" "$SGPID" 2>/dev/null; wait "$SGPID" 2>/dev/null; SGPID=""; }

send() { # user [to] -> prints swaks' last server reply line
	swaks --server "127.0.0.1:$PORT" --auth PLAIN --auth-user "$1@test.example" \
		--auth-password "secret-$1" --from "$1@test.example" --to "${2:-someone@example.org}" \
		--h-Subject "e2e" --body "test" --timeout 10 2>&1
}
queue_json() { postqueue -c "$D/etc" -j 2>/dev/null; }
count_in() { queue_json | grep -c "\"queue_name\": \"$1\".*\"sender\": \"$2\"" ; }
wait_for() { # seconds command...
	local t=$1; shift
	for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}
held_all() { [ "$(count_in hold "$1")" -ge "$2" ] && [ "$(count_in deferred "$1")" -eq 0 ] && [ "$(count_in active "$1")" -eq 0 ] && [ "$(count_in incoming "$1")" -eq 0 ]; }

write_conf enforce
check "sendguard starts against the instance" start_sg

# 1. within the limit: nothing held, nothing blocked
for i in 1 2 3; do send alice >/dev/null; done
sleep 2
check "1: alice within her limit: nothing on hold" [ "$(count_in hold alice@test.example)" -eq 0 ]
check "1: alice within her limit: no key in the map" sh -c "! grep -qv '^#' '$D/etc/sasl_access'"

# 2. alice goes over 5/1h while bob sends too; a watcher notes (10 ms polls)
# when her 6th (queue active) line appears and when that message is on hold
(
	for i in $(seq 3000); do
		if [ "$(grep -c 'from=<alice@test.example>.*(queue active)' "$D/maillog")" -ge 6 ]; then
			date +%s.%N > "$D/t_cross"
			q=$(grep 'from=<alice@test.example>.*(queue active)' "$D/maillog" | sed -n 6p | sed 's/.*: \([0-9A-Za-z]*\): from=.*/\1/')
			for j in $(seq 3000); do
				if postqueue -c "$D/etc" -j 2>/dev/null | grep -q "\"queue_name\": \"hold\", \"queue_id\": \"$q\""; then
					date +%s.%N > "$D/t_hold"; break
				fi
				sleep 0.01
			done
			break
		fi
		sleep 0.01
	done
) &
watcher=$!
for i in 1 2 3 4; do send alice >/dev/null; send bob >/dev/null; done
check "2: alice's queued mail is all on hold" wait_for 20 held_all alice@test.example 6
check "2: the map has alice" wait_for 10 grep -q '^alice@test.example 450 4.7.1' "$D/etc/sasl_access"
reloaded() { [ "$(grep -c 'reload for -: .* ok' "$D/sg/daemon.log")" -ge "$1" ]; }
check "2: postfix reloaded after the map changed" wait_for 15 reloaded 2
out=$(send alice)
check "2: alice's next send gets the configured 4xx" grep -q '450 4.7.1 .*Sending rate limit exceeded' <<<"$out"
check "2: bob is untouched (nothing of his on hold)" [ "$(count_in hold bob@test.example)" -eq 0 ]
out=$(send bob)
check "2: bob can still send" grep -q '250 2.0.0 Ok: queued' <<<"$out"
check "2: status lists alice blocked" sh -c "'$SG' status --json -c '$D/sg/agent.conf' | grep -q '\"identity\": \"sasl:alice@test.example\"'"
wait "$watcher"
if [ -s "$D/t_cross" ] && [ -s "$D/t_hold" ]; then
	awk -v a="$(cat "$D/t_cross")" -v b="$(cat "$D/t_hold")" \
	    'BEGIN { printf "# crossing line in the maillog -> that message on hold: %.0f ms (10 ms polling)\n", (b - a) * 1000 }'
else
	bad "2: measure crossing-to-hold"
fi

# 3. unblock --release-held
"$SG" unblock -c "$D/sg/agent.conf" sasl:alice@test.example --release-held > "$D/unblock.out" 2>&1
check "3: unblock: map entry gone" wait_for 10 sh -c "! grep -q '^alice@' '$D/etc/sasl_access'"
check "3: held mail back in the deferred queue" wait_for 15 sh -c "[ \$(postqueue -c '$D/etc' -j | grep -c '\"queue_name\": \"hold\".*alice') -eq 0 ]"
sleep 2
out=$(send alice)
check "3: alice can send again" grep -q '250 2.0.0 Ok: queued' <<<"$out"

# 3b. the unblock re-armed her limit: five new messages pass, the sixth
# crosses 5/1h again and she is held and refused again
for i in 2 3 4 5; do send alice >/dev/null; done
sleep 2
check "3b: five new messages after the unblock pass: nothing on hold" [ "$(count_in hold alice@test.example)" -eq 0 ]
check "3b: five new messages after the unblock pass: not in the map" sh -c "! grep -q '^alice@' '$D/etc/sasl_access'"
send alice >/dev/null
check "3b: the sixth new message puts her mail on hold again" wait_for 20 held_all alice@test.example 6
check "3b: the map has alice again" wait_for 10 grep -q '^alice@test.example 450 4.7.1' "$D/etc/sasl_access"
sleep 1
out=$(send alice)
check "3b: alice is refused again" grep -q '450 4.7.1 .*Sending rate limit exceeded' <<<"$out"
check "3b: explain shows her second block" sh -c "'$SG' explain -c '$D/sg/agent.conf' sasl:alice@test.example | grep -q 'blocked 2 times'"

# 4. a local user floods through sendmail (pickup, uid 33)
for i in $(seq 7); do
	printf 'Subject: flood %s\n\nspam\n' "$i" | setpriv --reuid=33 --regid=33 --clear-groups \
		/usr/sbin/sendmail -C "$D/etc" -f www-data@test.example victim$i@example.org
done
check "4: the web user's mail is on hold" wait_for 20 held_all www-data@test.example 6
check "4: status shows uid:33 blocked by the uid rule" sh -c "'$SG' status --json -c '$D/sg/agent.conf' | grep -q '\"identity\": \"uid:33\", \"rule\": \"local\"'"
check "4: a notice was recorded" sh -c "'$SG' explain -c '$D/sg/agent.conf' uid:33 | grep -q 'notify .*ok'"
# postqueue -j shows the null sender as MAILER-DAEMON; pickup logs uid=0 from=<>
check "4: the notices are in Postfix's queue, from <> to the postmaster" wait_for 10 sh -c "[ \$(postqueue -c '$D/etc' -j | grep '\"sender\": \"MAILER-DAEMON\"' | grep -c 'postmaster@test.example') -ge 2 ]"
check "4: pickup logged them as uid=0 from=<>" grep -q 'postfix/pickup\[[0-9]*\]: [0-9A-F]*: uid=0 from=<>' "$D/maillog"
check "4: sendguard's own notices were not counted (root, null sender)" sh -c "! '$SG' status --json -c '$D/sg/agent.conf' | grep -q '\"identity\": \"uid:0\"'"

# 5. sendguard killed (SIGKILL) during carol's flood, restarted: each action once, counts right
for i in 1 2 3; do send carol >/dev/null; done
sleep 1
stop_sg -KILL
for i in 4 5 6 7; do send carol >/dev/null; done
check "5: sendguard restarts after SIGKILL" start_sg
check "5: carol's mail is on hold" wait_for 20 held_all carol@test.example 6
sleep 2
ex=$("$SG" explain -c "$D/sg/agent.conf" sasl:carol@test.example)
check "5: one overrun recorded for carol" [ "$(grep -c 'rule submission: messages' <<<"$ex")" -eq 1 ]
check "5: one notice for carol" [ "$(grep -c ' notify ' <<<"$ex")" -eq 1 ]
check "5: carol counted exactly 7 messages" sh -c "'$SG' status --json -c '$D/sg/agent.conf' | grep -q '\"identity\": \"sasl:carol@test.example\", \"rule\": \"submission\", \"limit\": \"messages\", \"window\": \"1h\", \"count\": 7,'"

# 6. a block lands while a postfix reload is already running
nreload=$(grep -c 'reload for -: .* ok' "$D/sg/daemon.log")
( for i in $(seq 8); do postfix -c "$D/etc" reload >/dev/null 2>&1; sleep 0.2; done ) &
rl=$!
for i in $(seq 7); do send dave >/dev/null; done
wait $rl
check "6: dave is in the map" wait_for 15 grep -q '^dave@test.example ' "$D/etc/sasl_access"
check "6: reload after dave's block" wait_for 15 reloaded $((nreload + 1))
sleep 1
out=$(send dave)
check "6: dave is refused after concurrent reloads" grep -q '450 4.7.1' <<<"$out"

# 7. forged lines appended to the maillog (anyone who can write the log
# can do this) claim bob's deferred message for another login and give that
# login five more messages: the forger-chosen login is blocked, but the
# queue says the message is bob's, so it stays deferred, even through
# unblock --delete-held
bq=$(queue_json | grep '"queue_name": "deferred"' | grep '"sender": "bob@test.example"' | head -1 | sed 's/.*"queue_id": "\([0-9A-Za-z]*\)".*/\1/')
check "7: bob has a deferred message" [ -n "$bq" ]
forge() { printf '%s mx postfix/%s: %s\n' "$(date '+%b %d %H:%M:%S')" "$1" "$2" >> "$D/maillog"; }
forge "qmgr[1]" "$bq: removed"
forge "smtpd[1]" "$bq: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=mallory@test.example"
forge "qmgr[1]" "$bq: from=<mallory@test.example>, size=300, nrcpt=1 (queue active)"
for i in 1 2 3 4 5; do
	forge "smtpd[1]" "FA0000000$i: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=mallory@test.example"
	forge "qmgr[1]" "FA0000000$i: from=<mallory@test.example>, size=300, nrcpt=1 (queue active)"
done
check "7: the forger-chosen login is blocked (in the map)" wait_for 15 grep -q '^mallory@test.example 450 4.7.1' "$D/etc/sasl_access"
check "7: the queue did not confirm bob's message as hers" wait_for 15 grep -q "queue ID $bq not confirmed by the queue" "$D/sg/daemon.log"
check "7: bob's message stays deferred, not held" sh -c "postqueue -c '$D/etc' -j | grep -q '\"queue_name\": \"deferred\", \"queue_id\": \"$bq\"'"
check "7: status counts it as unconfirmed" sh -c "'$SG' status --json -c '$D/sg/agent.conf' | grep -q '\"identity\": \"sasl:mallory@test.example\".*\"unconfirmed\": 1,'"
"$SG" unblock -c "$D/sg/agent.conf" sasl:mallory@test.example --delete-held > "$D/unblock-mallory.out" 2>&1
sleep 2
check "7: unblock --delete-held leaves bob's message deferred" sh -c "postqueue -c '$D/etc' -j | grep -q '\"queue_name\": \"deferred\", \"queue_id\": \"$bq\"'"
check "7: and the map lets mallory go" wait_for 10 sh -c "! grep -q '^mallory@' '$D/etc/sasl_access'"

# 7b. a login whose mail bounces: two messages wait in the deferred queue
# (the dead relay), then two go to two recipients each that the loopback
# sink refuses with 550; the fourth bounced recipient crosses bounces = 3/1h
# (4 messages stay under messages = 5/1h), and what she still has queued is
# held and she is blocked
deferred_n() { [ "$(count_in deferred "$1")" -ge "$2" ]; }
bounced_n() { [ "$(grep -c 'status=bounced .*550 5.1.1' "$D/maillog")" -ge "$1" ]; }
for i in 1 2; do send erin >/dev/null; done
check "7b: erin's first two messages wait in the deferred queue" wait_for 20 deferred_n erin@test.example 2
send erin "r1@bounce.example,r2@bounce.example" >/dev/null
send erin "r3@bounce.example,r4@bounce.example" >/dev/null
check "7b: the sink's 550 bounced her four recipients" wait_for 20 bounced_n 4
check "7b: erin's queued mail is on hold" wait_for 20 held_all erin@test.example 2
check "7b: the map has erin" wait_for 10 grep -q '^erin@test.example 450 4.7.1' "$D/etc/sasl_access"
check "7b: the bounces limit blocked her at the fourth bounce" grep -q 'blocking sasl:erin@test.example: rule bounces, bounces 4 > 3 in 1h' "$D/sg/daemon.log"
check "7b: the block line names her client address" grep -q 'block: sasl:erin@test.example rule bounces ips 127.0.0.1$' "$D/sg/daemon.log"
check "7b: explain counts 4 bounced recipients" sh -c "'$SG' explain -c '$D/sg/agent.conf' sasl:erin@test.example | grep -q 'bounced 4 (recipients)'"
sleep 1
out=$(send erin)
check "7b: erin is refused" grep -q '450 4.7.1' <<<"$out"

stop_sg
# 8 (monitor): the same flood by bob, nothing held or blocked
write_conf monitor
rm -f "$D/sg/state.db"*
start_sg
for i in $(seq 7); do send bob >/dev/null; done
sleep 4
check "8: monitor: nothing of bob's on hold" [ "$(count_in hold bob@test.example)" -eq 0 ]
check "8: monitor: no map entry" sh -c "! grep -q '^bob@' '$D/etc/sasl_access'"
check "8: monitor: the log says what would run" grep -q 'monitor: hold for sasl:bob@test.example: would run /usr/sbin/postsuper' "$D/sg/daemon.log"
stop_sg

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
