"""Run the fake server in the foreground: python -m iracing_sync_local.fake_iracing --port N --snapshot NAME."""

from __future__ import annotations

import argparse
import threading

from iracing_sync_local.fake_iracing import SNAPSHOTS, FakeIracing


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, printing the URLs and the account's credentials."""
    parser = argparse.ArgumentParser(description="Fake iRacing OAuth + /data server on 127.0.0.1 (bundled samples).")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--snapshot", default="2025-09-09", choices=sorted(SNAPSHOTS), help="which capture to serve")
    args = parser.parse_args(argv)
    fake = FakeIracing(args.snapshot, port=args.port)
    url = fake.start()
    print(f"fake iRacing ({args.snapshot}) on {url}", flush=True)
    print(f"  oauth: {fake.oauth_url}  api: {fake.api_url}/data/<endpoint>", flush=True)
    print(
        f"  username={fake.username} password={fake.password} client_id={fake.client_id} "
        f"client_secret={fake.client_secret}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
