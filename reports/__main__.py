"""python -m reports [--tracker-url URL] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--out DIR]

Prints the deflection table and writes report.csv, fallbacks.csv and report.png (docs/report.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import sqlalchemy.exc

import knowledge
from reports import output
from reports.deflection import conversations, summarize
from reports.store import StoreNotFound, default_url, printable, read_events

DEFAULT_OUT = Path("var/report")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reports", description="Deflection report per day and office from the tracker store."
    )
    parser.add_argument(
        "--tracker-url",
        default=default_url(),
        help="SQLAlchemy URL of the tracker store (default: $TRACKER_STORE_URL or sqlite:///var/tracker.db)",
    )
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (Europe/Berlin)")
    parser.add_argument("--until", type=date.fromisoformat, help="last day, YYYY-MM-DD (Europe/Berlin)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default: var/report)"
    )
    args = parser.parse_args(argv)
    if args.since and args.until and args.since > args.until:
        parser.error("--since liegt nach --until")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    events = read_events(args.tracker_url, args.since, args.until)
    bounded = args.since is not None or args.until is not None
    try:
        report = summarize(conversations(events, require_start=bounded), args.since, args.until)
    except StoreNotFound as missing:
        print(f"Tracker-Datenbank nicht gefunden: {missing}", file=sys.stderr)
        return 2
    except sqlalchemy.exc.SQLAlchemyError as error:  # no details: they can quote the URL or stored data
        print(
            f"Tracker-Datenbank nicht lesbar ({printable(args.tracker_url)}): {type(error).__name__}",
            file=sys.stderr,
        )
        return 2

    base = knowledge.load()
    offices = {office_id: office.name for office_id, office in base.offices.items()}
    topic_titles = {topic.intent: topic.title for topic in base.catalogue.topics.values()}
    args.out.mkdir(parents=True, exist_ok=True)
    output.write_report_csv(args.out / "report.csv", report, offices)
    output.write_fallbacks_csv(args.out / "fallbacks.csv", report.fallbacks, offices)
    output.write_chart(args.out / "report.png", report)
    print(output.table(report, offices, topic_titles))
    print(
        f"\nGeschrieben: {args.out / 'report.csv'}, {args.out / 'fallbacks.csv'}, {args.out / 'report.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
