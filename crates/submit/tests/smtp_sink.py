"""An aiosmtpd relay for groxide-submit's tests.

usage: smtp_sink.py PORT OUTDIR MODE [CERT KEY]
MODE: plain | starttls (STARTTLS offered and required) | smtps (implicit TLS)
Recipients starting with "reject" get 550, "defer" get 451; a sender
starting with "blocked" gets 553. Each message is written to OUTDIR as
<n>.eml (the bytes received, dot-unstuffed) and <n>.json (envelope).
"""
import json, os, ssl, sys, threading
from aiosmtpd.controller import Controller

port, outdir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Sink:
    count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.startswith("blocked"):
            return "553 5.7.1 sender blocked"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        if address.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        base = os.path.join(outdir, str(Sink.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "rcpt": envelope.rcpt_tos,
                       "options": envelope.mail_options,
                       "tls": server.transport.get_extra_info("ssl_object") is not None}, f)
        return "250 2.0.0 queued"


ctx = None
if mode != "plain":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
kwargs = dict(hostname="127.0.0.1", port=port, decode_data=False)
if mode == "starttls":
    kwargs.update(tls_context=ctx, require_starttls=True)
elif mode == "smtps":
    kwargs.update(ssl_context=ctx)
controller = Controller(Sink(), **kwargs)
controller.start()
print("ready", flush=True)
threading.Event().wait()
