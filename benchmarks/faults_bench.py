"""Fault rounds under load: messages lost, duplicated, plans stuck, worker restarts
by hand (target: all 0). Not a test: it prints figures.

Each round, under an agency booking load (OCTO reserve → confirm, every fifth
cancelled, plans asked for; 3 client threads): Redis stopped for 20 s, PostgreSQL
stopped for 10 s, then the Celery worker SIGKILLed while it solves a plan and
started again (as docker-compose's ``restart: unless-stopped`` would). After the
rounds the service is given time to work off its backlog (up to ``--settle``
seconds), then every e-mail (counted from the
files the worker wrote, by idempotency key) and every webhook (counted at a receiver
on 127.0.0.1, by ``Idempotency-Key``) is checked against what the bookings in the
database call for.

"Messages duplicated": an event that reached a receiver under two different
idempotency keys, or an e-mail that no booking called for (a receiver would process
it twice). A message re-sent under the SAME key (the worker SIGKILLed between
sending it and recording that it did) is printed separately: receivers drop it by
its ``Idempotency-Key`` / ``Message-ID``.

"Worker restarts by hand": the times the worker process had exited by itself after
an outage and had to be started again (the deliberate kill is not counted).

The stack is its own: PostgreSQL and Redis started from Debian's binaries on free
loopback ports in a temporary folder (tests/faults/servers.py), gunicorn, a prefork
worker and beat (tests/faults/stack.py). No DATABASE_URL/REDIS_URL needed:

    .venv/bin/python -u benchmarks/faults_bench.py [--rounds 3] [--redis-outage 20]
        [--db-outage 10] [--threads 3] [--settle 900] [--keep]

Sweeps and retries run on short delays (tests/faults/stack.py ``FAST_SWEEPS``:
sweeps every 2–3 s, leases of 40–70 s, a plan stuck after 45 s) so a round settles
in minutes; production uses the README's defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.stack import (
    BookingLoad,
    FaultStack,
    tally,
    wait_settled,
)


def kill_mid_solve(stack: FaultStack, load: BookingLoad) -> bool:
    with stack.octo() as client:
        for n in range(6):
            load._plan(client, 1000 + n)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if stack.sql("SELECT 1 FROM itineraries_tripplan WHERE status = 'solving'"):
            stack.kill_worker()
            return True
        time.sleep(0.02)
    stack.kill_worker()
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-outage", type=float, default=20.0)
    parser.add_argument("--db-outage", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=3, help="booking clients")
    parser.add_argument(
        "--settle", type=float, default=900.0, help="seconds to wait for the backlog"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()

    restarts_by_hand = 0
    caught = 0
    back_after: list[float] = []
    started = time.monotonic()
    with FaultStack(keep=args.keep) as stack:
        load = BookingLoad(stack, threads=args.threads)
        load.start()

        def worker_back() -> None:
            nonlocal restarts_by_hand
            if not stack.worker_alive():
                restarts_by_hand += 1
                print("  worker exited by itself: started again BY HAND")
                stack.start_worker()
            back_after.append(stack.wait_worker(120))

        try:
            for round_ in range(1, args.rounds + 1):
                print(f"round {round_}: load 5 s")
                time.sleep(5)
                print(f"round {round_}: Redis down {args.redis_outage:.0f} s")
                stack.redis.stop()
                time.sleep(args.redis_outage)
                stack.redis.start()
                worker_back()
                time.sleep(5)
                print(f"round {round_}: PostgreSQL down {args.db_outage:.0f} s")
                stack.postgres.stop()
                time.sleep(args.db_outage)
                stack.postgres.start()
                worker_back()
                time.sleep(5)
                print(f"round {round_}: worker killed mid-solve, restarted")
                caught += kill_mid_solve(stack, load)
                stack.start_worker()
        finally:
            load.stop()
        settle = wait_settled(stack, args.settle)
        result = tally(stack)
        answers = load.answers
        print()
        print(f"rounds:                     {args.rounds}")
        print(f"bookings made:              {len(load.bookings)}")
        print(f"plans asked for:            {result.plans_total}")
        print(f"e-mails expected:           {result.emails_expected}")
        print(f"webhooks expected:          {result.webhooks_expected}")
        print(f"answers:                    {dict(sorted(answers.codes.items()))}")
        print(f"5xx other than 503 JSON:    {len(answers.bad_5xx)}")
        print(f"kills caught mid-solve:     {caught} of {args.rounds}")
        print(
            "worker serving again after: " + ", ".join(f"{s:.1f}s" for s in back_after)
        )
        print(f"settled after the load in:  {settle:.0f}s")
        print(f"total wall time:            {time.monotonic() - started:.0f}s")
        print()
        print(
            f"messages lost:              {result.lost} "
            f"(e-mails {result.emails_lost}, webhooks {result.webhooks_lost})"
        )
        print(
            f"messages duplicated:        {result.duplicated} "
            f"(e-mails {result.emails_duplicated}, "
            f"webhooks {result.webhooks_duplicated}; a second key for one event)"
        )
        print(f"plans stuck:                {result.plans_stuck}")
        print(f"worker restarts by hand:    {restarts_by_hand}")
        print(
            f"same key re-sent after a SIGKILL mid-send (receivers drop them): "
            f"{result.resent} (e-mails {result.emails_resent}, "
            f"webhooks {result.webhooks_resent})"
        )
        for what, count in result.not_sent.items():
            print(f"  not delivered: {what}: {count}")
        failed = result.lost + result.duplicated + result.plans_stuck + restarts_by_hand
        return 1 if failed or answers.bad_5xx else 0


if __name__ == "__main__":
    sys.exit(main())
