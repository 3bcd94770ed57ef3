"""A real SMTP server on localhost that accepts every message, for tests that
follow an email through Odoo's mail queue to *sent* without mocking Odoo."""

import socketserver
import threading
from contextlib import contextmanager


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 localhost test sink\r\n")
        in_data = False
        message = []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    self.server.messages.append("\n".join(message))
                    message = []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    message.append(line)
                continue
            verb = line[:4].upper()
            if verb == "DATA":
                in_data = True
                self.wfile.write(b"354 end with .\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # EHLO, HELO, MAIL, RCPT, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_sink(env):
    """Serve SMTP on a free local port and make it the outgoing mail server
    of ``env`` for the duration; yields the list of received messages."""
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mail_server = env["ir.mail_server"]
    try:
        mail_server = (
            env["ir.mail_server"]
            .sudo()
            .create(
                {
                    "name": "test sink",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": server.server_address[1],
                    "sequence": 0,
                }
            )
        )
        yield server.messages
    finally:
        mail_server.unlink()
        server.shutdown()
        server.server_close()
