from django.apps import AppConfig


class OctoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "octo"
    verbose_name = "OCTO supplier API"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from catalogue.models import Country, Departure, Place
        from octo.selectors import listing_cache
        from providers.models import Listing, ListingUnit, PriceSchedule, Provider
        from tourism.localcache import invalidate_on_change

        # Everything octo.selectors.listing_get loads with a listing.
        invalidate_on_change(
            listing_cache,
            Listing,
            ListingUnit,
            PriceSchedule,
            Provider,
            Place,
            Country,
            Departure,
        )
        m2m_changed.connect(
            listing_cache.invalidate_receiver,
            sender=Listing.departures.through,
            dispatch_uid="octo-listing-departures",
        )
