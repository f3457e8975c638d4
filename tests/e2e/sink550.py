#!/usr/bin/python3
# sink550 - a loopback SMTP server for tests/e2e/run.sh that refuses every
# recipient with "550 5.1.1", so that Postfix bounces them (status=bounced,
# "in reply to RCPT TO command").  It answers the commands a Postfix SMTP
# client sends (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), pipelined
# or not, one thread a connection.  Usage: sink550.py PORT (127.0.0.1 only).
# Needs only the Python 3 standard library (Debian's python3).
import socketserver
import sys


class Session(socketserver.StreamRequestHandler):
    def say(self, text):
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self):
        self.say("220 sink.test ESMTP refuses every recipient")
        self.wfile.flush()
        for line in self.rfile:
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.say("250 sink.test")
            elif verb == b"MAIL":
                self.say("250 2.1.0 Ok")
            elif verb == b"RCPT":
                self.say("550 5.1.1 Recipient address rejected: User unknown")
            elif verb == b"DATA":
                self.say("554 5.5.1 Error: no valid recipients")
            elif verb == b"QUIT":
                self.say("221 2.0.0 Bye")
                self.wfile.flush()
                return
            else:
                self.say("250 2.0.0 Ok")
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Session).serve_forever()
