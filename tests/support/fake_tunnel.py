"""A stand-in for ``cloudflared tunnel --url {local}``: prints like it, then stays alive.

Options:
  --url LOCAL        the local URL to forward to (echoed, as cloudflared does)
  --die-after S      exit with code 1 after S seconds (a dropped tunnel)
  --pidfile PATH     write "<own pid> <helper pid>" (a helper child proves the group is killed)
  --silent           never print a URL
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="")
    p.add_argument("--die-after", type=float, default=0.0)
    p.add_argument("--pidfile", default="")
    p.add_argument("--silent", action="store_true")
    a = p.parse_args()
    helper_pid = 0
    if a.pidfile:
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        helper_pid = helper.pid
        with open(a.pidfile, "w") as fh:
            fh.write(f"{os.getpid()} {helper_pid}")
    err = sys.stderr
    print("INF Thank you for trying Cloudflare Tunnel. See https://developers.cloudflare.com/cloudflare-one/", file=err)
    print(f"INF Requesting new quick Tunnel on trycloudflare.com... forwarding to {a.url}", file=err)
    if not a.silent:
        host = f"fake-{uuid.uuid4().hex[:10]}.trycloudflare.com"
        print(
            "INF +--------------------------------------------------------------------------------------------+",
            file=err,
        )
        print(
            "INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |",
            file=err,
        )
        print(f"INF |  https://{host}                                                  |", file=err)
        print(
            "INF +--------------------------------------------------------------------------------------------+",
            file=err,
        )
    err.flush()
    print("stdout line: connection registered", flush=True)
    started = time.monotonic()
    while True:
        time.sleep(0.05)
        if a.die_after and time.monotonic() - started > a.die_after:
            print("ERR connection to edge lost", file=err, flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
