from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.services import SEED_FILES, SeedError, catalogue_seed_from_files


class Command(BaseCommand):
    help = (
        "Load the route catalogue (countries, places, crossings, legs, departures, "
        "sights, transfers) from catalogue/data/route.yaml, sights.yaml and "
        "transfers.yaml. Idempotent: a second run changes nothing. Rows that "
        "already exist are left as staff edited them unless --update."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            action="append",
            dest="files",
            help="a seed file to load instead of the default three (repeatable)",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="overwrite existing rows with the file's values",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = catalogue_seed_from_files(
                paths=options["files"] or SEED_FILES, update=bool(options["update"])
            )
        except (SeedError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS("Route catalogue loaded.")
            if report.changed
            else "Route catalogue already up to date: nothing changed."
        )
