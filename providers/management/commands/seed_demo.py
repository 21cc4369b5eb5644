from django.core.management.base import BaseCommand, CommandError

from catalogue.services import SeedError
from providers.demo import demo_seed_from_file


class Command(BaseCommand):
    help = (
        "Add the demo providers and listings (marked as demo) on the real route. "
        "Needs the route catalogue (seed_route). Idempotent."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            created = demo_seed_from_file()
        except (SeedError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if created:
            summary = ", ".join(f"{n} {kind}" for kind, n in sorted(created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data added: {summary}."))
        else:
            self.stdout.write("Demo data already present: nothing changed.")
