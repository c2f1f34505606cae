"""Staff hand-over on the command line: list, export, mark and purge callback requests.

    python -m callbacks.cli list [--office ID] [--status open|done|unreachable] [--format jsonl|json|csv]
    python -m callbacks.cli mark REFERENCE done|unreachable|open
    python -m callbacks.cli purge [--days N]

The database is DATABASE_URL, or the SQLite file in ASSISTANT_DATA_DIR (default ./var).
Times are listed in UTC and in Europe/Berlin (created_at_local, closed_at_local).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime, timezone

from callbacks.store import CallbackStore, Status, StoredRequest

# Times twice: UTC (created_at, closed_at) and Europe/Berlin as staff read them (…_local).
# contact_method says how to answer (phone, sms, email, fax) and contact the number or address.
FIELDS = [
    "reference", "id", "created_at", "created_at_local", "office", "name", "contact_method", "contact",
    "phone", "email", "fax", "reason", "preferred_time", "alternative_contact", "status", "closed_at",
    "closed_at_local",
]  # fmt: skip


def write(requests: list[StoredRequest], fmt: str) -> None:
    rows = [request.as_json() for request in requests]
    if fmt == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callbacks", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list or export requests")
    listing.add_argument("--office")
    listing.add_argument("--status", choices=[s.value for s in Status])
    listing.add_argument("--format", choices=["jsonl", "json", "csv"], default="jsonl")
    marking = commands.add_parser("mark", help="set the status of a request")
    marking.add_argument("reference")
    marking.add_argument("status", choices=[s.value for s in Status])
    purging = commands.add_parser("purge", help="delete done requests after the retention period")
    purging.add_argument("--days", type=int, default=None)
    args = parser.parse_args(argv)

    store, now = CallbackStore(), datetime.now(timezone.utc)
    if args.command == "list":
        write(store.list(args.office, Status(args.status) if args.status else None), args.format)
    elif args.command == "mark":
        if not store.mark(args.reference, Status(args.status), now):
            print(f"Unknown reference: {args.reference}", file=sys.stderr)
            return 1
    else:
        deleted = store.purge(now, args.days)
        print(f"Deleted {deleted} done request(s).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
