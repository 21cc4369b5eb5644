"""``python manage.py create_agency "NAME"``: a new agency and its first API key,
printed alone on the last line (shown once; only its hash is stored)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agencies.services import agency_create


class Command(BaseCommand):
    help = "Create a travel agency and print its first API key on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--email", default="", help="contact email")
        parser.add_argument(
            "--commission-bps",
            type=int,
            default=0,
            help="commission in basis points (1000 = 10 %%): the net price is retail "
            "minus this",
        )
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="a test agency: its tk_test_ keys see the real products and "
            "availability, but its bookings take no places and reach no provider",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency, new = agency_create(
                name=options["name"],
                contact_email=options["email"],
                commission_bps=options["commission_bps"],
                sandbox=options["sandbox"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        kind = "Sandbox agency" if agency.is_sandbox else "Agency"
        self.stdout.write(f"{kind} {agency.name} (id {agency.pk}) created.")
        self.stdout.write("Its API key follows; it is shown only this once:")
        self.stdout.write(new.key)
