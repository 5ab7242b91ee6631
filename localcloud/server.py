"""The local cloud as a server on 127.0.0.1, with a web page of what it received.

    python -m localcloud.server [--port 8787]

Point a function's settings at it (the page lists the lines to paste) and open http://127.0.0.1:8787/.
The Batch fake knows every job the samples in events/ name; the clear button forgets everything.
"""

from __future__ import annotations

import argparse
import threading
from typing import Optional, Sequence

from .cloud import LocalCloud
from .page import env_lines
from .serving import running

DEFAULT_PORT = 8787


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    try:
        with running(LocalCloud(all_samples=True), port=args.port, page=True) as cloud:
            print(
                f"local cloud on {cloud.base_url}/ (Ctrl-C stops it); nothing leaves this machine", flush=True
            )
            print("point a function at it with:\n" + env_lines(cloud), flush=True)
            threading.Event().wait()
    except OSError as exc:
        print(f"cannot serve on 127.0.0.1:{args.port}: {exc} (another --port?)")
        return 1
    except KeyboardInterrupt:
        print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
