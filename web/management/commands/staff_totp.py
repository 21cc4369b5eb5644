"""``python manage.py staff_totp USERNAME``: enrol a TOTP authenticator (an app such
as FreeOTP, Aegis or Google Authenticator) for a staff account and print its secret
once, as an ``otpauth://`` address (most apps read it from a QR code made of it)
and as the key to type in. From then on the admin login asks that account for the
app's 6-digit code (tourism/admin_site.py)."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tourism.admin_site import staff_totp_enrol


class Command(BaseCommand):
    help = "Enrol a TOTP authenticator for a staff account and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the staff account's user name")
        parser.add_argument("--name", default="authenticator", help="device name")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace the account's authenticator (a lost phone)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(options["username"])
        except model.DoesNotExist as exc:
            raise CommandError(f"No account {options['username']!r}.") from exc
        try:
            device = staff_totp_enrol(
                user=user, name=options["name"], replace=options["replace"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        key = base64.b32encode(device.bin_key).decode().rstrip("=")
        self.stdout.write(f"Authenticator enrolled for {user.get_username()}.")
        self.stdout.write("Give its owner, once (it is not shown again):")
        self.stdout.write(f"  key (type it in): {key}")
        self.stdout.write(f"  address (as a QR code): {device.config_url}")
