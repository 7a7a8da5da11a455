"""``wellapi enqueue``: one HTTP POST to the running server; no database, nothing heavy."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from welldev import demo_file
from welldev.queue_messages import (
    QUEUES_PATH,
    NotAMessage,
    bodies_of,
    describe_body,
    with_recent_times,
)

USAGE_ERRORS = (NotAMessage,)


def main(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    bodies = bodies_of(text)  # refuse an empty file before sending anything
    if not args.as_written:
        text, bodies = _recent(text, bodies)
    if args.url:
        base_url, origin = args.url.rstrip("/"), "--url"
    else:
        base_url, origin = demo_file.base_url_and_origin()
    url = f"{base_url}{QUEUES_PATH}/{args.queue}"
    request = urllib.request.Request(  # noqa: S310 (a local http:// URL)
        url, data=text.encode("utf-8"), method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        print(f"wellapi: {url} answered {error.code}: {_message_of(error)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(
            f"wellapi: no local server at {base_url} ({error.reason}; that URL is {origin}): "
            "start it with `make run`, or name the running one with --url or PORT",
            file=sys.stderr,
        )
        return 1
    for entry, body in zip(answer["enqueued"], bodies, strict=False):
        print(f"enqueued {entry['messageId']}  {describe_body(body)}")
    print(
        f"queue {answer['queue']}: {answer['visible']} visible, {answer['in_flight']} in flight, "
        f"{answer['dead_lettered']} dead-lettered, {answer['processed']} processed"
        f" (GET {url})"
    )
    return 0


def _recent(text: str, bodies: list[str]) -> tuple[str, list[str]]:
    """The messages with their times brought within the last 28 days (``with_recent_times``)."""
    now = datetime.now(UTC)
    try:
        document: Any = json.loads(text)
    except ValueError:
        return text, bodies
    if not isinstance(document, dict) or "Records" not in document:
        document = text.strip()
    moved, shift = with_recent_times(document, now)
    if not shift:
        return text, bodies
    print(
        f"occurred_at moved forward {shift.days} days: the file's times are over 28 days old, and "
        "the sync writer refuses links older than 35 (--as-written sends them unchanged)",
        file=sys.stderr,
    )
    text = moved if isinstance(moved, str) else json.dumps(moved)
    return text, bodies_of(text)


def _message_of(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message"))
    except (ValueError, AttributeError):
        return error.reason
