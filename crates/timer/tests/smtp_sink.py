"""A counting SMTP relay for groxide-timer's deferred-send tests (aiosmtpd).

usage: smtp_sink.py PORT OUTDIR
Recipients starting with "reject" get 550. Each accepted message is written
to OUTDIR as <n>.eml (its bytes) and <n>.rcpt (one recipient per line).
Prints "ready" once listening.
"""
import os, sys, threading
from aiosmtpd.controller import Controller

port, outdir = int(sys.argv[1]), sys.argv[2]


class Counter:
    n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        Counter.n += 1
        base = os.path.join(outdir, str(Counter.n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 queued as T%d" % Counter.n


controller = Controller(Counter(), hostname="127.0.0.1", port=port, decode_data=False)
controller.start()
print("ready", flush=True)
threading.Event().wait()
