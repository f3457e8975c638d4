#!/usr/bin/env python3
"""Write samples/incident.log: a made-up morning on mail.example.com.

A developer tool only (the build and tests never run it); the log it wrote
is committed.  alice and bob send a little; carol@example.com's password is
stolen at 09:10 and her login sends 130 messages of 5 recipients each from
12 addresses in 50 minutes; a compromised PHP site (uid 33) sends 60
messages through sendmail; inbound mail arrives from outside; every
submission passes an amavis content filter whose re-injected copy must not
count again; one message is deferred and retried; one bounces.
"""
import random

random.seed(20261120)
lines = []
pid = [3000]
qseq = [0x1A2B3C40]


def newpid():
    pid[0] += random.randint(1, 7)
    return pid[0]


def qid():
    qseq[0] += random.randint(1, 5000)
    return "%X" % qseq[0] + random.choice("0123456789ABCDEF")


def ts(t):
    h, rem = divmod(t, 3600.0)
    m, s = divmod(rem, 60.0)
    return "2026-11-20T%02d:%02d:%09.6f+00:00" % (h, m, s)


def log(t, prog, p, text):
    lines.append((t, len(lines), "%s mail postfix/%s[%d]: %s" % (ts(t), prog, p, text)))


def submission(t, login, ip, sender, rcpts, order=0):
    q1, q2 = qid(), qid()
    sp = newpid()
    log(t, "submission/smtpd", sp, "connect from client.example.net[%s]" % ip)
    log(t + 0.2, "submission/smtpd", sp,
        "%s: client=client.example.net[%s], sasl_method=PLAIN, sasl_username=%s" % (q1, ip, login))
    log(t + 0.3, "cleanup", 900, "%s: message-id=<%s@example.com>" % (q1, q1.lower()))
    log(t + 0.4, "qmgr", 800, "%s: from=<%s>, size=%d, nrcpt=%d (queue active)"
        % (q1, sender, random.randint(900, 40000), len(rcpts)))
    log(t + 0.5, "submission/smtpd", sp, "disconnect from client.example.net[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d"
        % (ip, len(rcpts), 7 + len(rcpts)))
    # content filter: the copy q2 may be logged before or after the hand-off
    ap = newpid()
    copy = [
        (1.0, "10025/smtpd", ap, "%s: client=localhost[127.0.0.1]" % q2),
        (1.1, "qmgr", 800, "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (q2, sender, 45000, len(rcpts))),
    ]
    handoff = (1.3 if order == 0 else 1.05, "amavis/smtp", ap + 1,
               "%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.4/0/0/0.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as %s)"
               % (q1, rcpts[0], q2))
    for off, prog, p, text in copy + [handoff]:
        log(t + off, prog, p, text)
    log(t + 1.4, "qmgr", 800, "%s: removed" % q1)
    for i, r in enumerate(rcpts):
        log(t + 1.6 + i * 0.01, "smtp", ap + 2,
            "%s: to=<%s>, relay=mx.example.org[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.4/0.7, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)"
            % (q2, r, "9" + qid()))
    log(t + 1.8, "qmgr", 800, "%s: removed" % q2)


def pickup(t, uid, sender, rcpts):
    q = qid()
    log(t, "pickup", 700, "%s: uid=%d from=<%s>" % (q, uid, sender))
    log(t + 0.1, "cleanup", 900, "%s: message-id=<%s@mail.example.com>" % (q, q))
    log(t + 0.2, "qmgr", 800, "%s: from=<%s>, size=2100, nrcpt=%d (queue active)" % (q, sender, len(rcpts)))
    for r in rcpts:
        log(t + 0.9, "smtp", newpid(), "%s: to=<%s>, relay=mx.example.org[203.0.113.25]:25, delay=0.9, delays=0.2/0/0.3/0.4, dsn=2.0.0, status=sent (250 OK)" % (q, r))
    log(t + 1.0, "qmgr", 800, "%s: removed" % q)


def inbound(t, ip, sender, rcpt):
    q = qid()
    sp = newpid()
    log(t, "postscreen", 600, "CONNECT from [%s]:%d to [192.0.2.1]:25" % (ip, random.randint(1024, 65000)))
    log(t + 0.5, "smtpd", sp, "connect from mx.example.net[%s]" % ip)
    log(t + 0.7, "smtpd", sp, "%s: client=mx.example.net[%s]" % (q, ip))
    log(t + 0.8, "qmgr", 800, "%s: from=<%s>, size=5000, nrcpt=1 (queue active)" % (q, sender))
    log(t + 0.9, "local", newpid(), "%s: to=<%s>, relay=local, delay=0.3, delays=0.2/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)" % (q, rcpt))
    log(t + 1.0, "qmgr", 800, "%s: removed" % q)


def rcpts(n):
    return ["user%d@example.org" % random.randint(1, 9999) for _ in range(n)]


start = 9 * 3600.0
for i in range(6):
    submission(start + 200 * i + random.random() * 50, "alice@example.com", "192.0.2.10", "alice@example.com", rcpts(random.randint(1, 3)), i % 2)
for i in range(4):
    submission(start + 300 * i + 77, "Bob@Example.com", "192.0.2.11", "bob@example.com", rcpts(1), 0)
for i in range(20):
    inbound(start + random.random() * 5400, "198.51.100.%d" % random.randint(2, 250), "news%d@example.net" % (i % 4), "alice@example.com")
# the stolen password
thief_ips = ["203.0.113.%d" % n for n in (7, 19, 33, 41, 58, 66, 72, 88, 91, 104, 117, 130)]
t = start + 600
for i in range(130):
    submission(t, "carol@example.com", thief_ips[i % 12], "carol@example.com", rcpts(5), i % 2)
    t += 50 * 60 / 130.0
# a compromised web application
t = start + 1800
for i in range(60):
    pickup(t, 33, "www-data@mail.example.com", rcpts(2))
    t += 30.0
# a deferred message retried twice, then sent
q = qid()
log(start + 100, "pickup", 700, "%s: uid=1000 from=<dave@mail.example.com>" % q)
for k, off in enumerate((100.2, 1900.0, 3700.0)):
    log(start + off, "qmgr", 800, "%s: from=<dave@mail.example.com>, size=800, nrcpt=1 (queue active)" % q)
    status = "sent (250 OK)" if k == 2 else "deferred (connect to mx.example.org[203.0.113.25]:25: Connection timed out)"
    log(start + off + 30, "smtp", newpid(), "%s: to=<friend@example.org>, relay=%s, delay=%d, delays=0/0/30/0, dsn=%s, status=%s"
        % (q, "mx.example.org[203.0.113.25]:25" if k == 2 else "none", int(off), "2.0.0" if k == 2 else "4.4.1", status))
log(start + 3731, "qmgr", 800, "%s: removed" % q)
# a bounce: Postfix's own notification is no one's message
q, ndr = qid(), qid()
log(start + 5000, "pickup", 700, "%s: uid=1000 from=<dave@mail.example.com>" % q)
log(start + 5000.2, "qmgr", 800, "%s: from=<dave@mail.example.com>, size=800, nrcpt=1 (queue active)" % q)
log(start + 5001, "smtp", newpid(), "%s: to=<nobody@example.org>, relay=mx.example.org[203.0.113.25]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.example.org[203.0.113.25] said: 550 5.1.1 no such user)" % q)
log(start + 5001.1, "bounce", newpid(), "%s: sender non-delivery notification: %s" % (q, ndr))
log(start + 5001.2, "qmgr", 800, "%s: from=<>, size=2900, nrcpt=1 (queue active)" % ndr)
log(start + 5001.3, "qmgr", 800, "%s: removed" % q)
log(start + 5001.5, "local", newpid(), "%s: to=<dave@mail.example.com>, relay=local, delay=0.3, delays=0/0/0/0.3, dsn=2.0.0, status=sent (delivered to mailbox)" % ndr)
log(start + 5001.6, "qmgr", 800, "%s: removed" % ndr)

lines.sort()
with open("incident.log", "w") as f:
    for _, _, text in lines:
        f.write(text + "\n")
