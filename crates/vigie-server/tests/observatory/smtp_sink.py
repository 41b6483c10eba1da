"""A real SMTP server for the outbox tests (aiosmtpd): listens on
127.0.0.1:PORT and writes each message received to DIR as JSON (envelope,
decoded headers, plain-text and HTML bodies), then prints "ready"."""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        plain = message.get_body(("plain",))
        html = message.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "from": str(message["From"]),
            "to": str(message["To"]),
            "message_id": str(message["Message-ID"]),
            # The client's port: one per SMTP connection.
            "peer_port": session.peer[1],
            # The bytes as received, for signature checks (DKIM).
            "raw": (envelope.original_content or envelope.content).decode("latin-1"),
            "content_type": message.get_content_type(),
            "text": plain.get_content() if plain is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        self.count += 1
        path = os.path.join(self.directory, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


async def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    loop = asyncio.get_running_loop()
    sink = Sink(directory)
    await loop.create_server(lambda: SMTP(sink), "127.0.0.1", port)
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
