"""Does a Redis or MongoDB server answer at this URL? Exit 0 if so (optionally waiting)."""

from __future__ import annotations

import argparse
import sys
import time


def answers(kind: str, url: str) -> bool:
    try:
        if kind == "redis":
            import redis

            return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return True
        finally:
            client.close()
    except Exception:  # any failure means "not answering": that is the question asked
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["redis", "mongodb"])
    parser.add_argument("url")
    parser.add_argument("--wait", type=float, default=0, help="Seconds to keep trying")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while True:
        if answers(args.kind, args.url):
            return
        if time.monotonic() >= deadline:
            sys.exit(f"{args.kind} does not answer at {args.url}")
        time.sleep(0.3)


if __name__ == "__main__":
    main()
