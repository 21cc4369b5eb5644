from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from catalogue.models import Country, Departure, Place
        from providers.models import (
            Listing,
            ListingPhoto,
            ListingUnit,
            PriceSchedule,
            Provider,
        )
        from providers.selectors import listing_cache
        from tourism.localcache import invalidate_on_change

        # Everything providers.selectors.listing_get_cached loads with a listing.
        invalidate_on_change(
            listing_cache,
            Listing,
            ListingUnit,
            ListingPhoto,
            PriceSchedule,
            Provider,
            Place,
            Country,
            Departure,
        )
        m2m_changed.connect(
            listing_cache.invalidate_receiver,
            sender=Listing.departures.through,
            dispatch_uid="listing-cache-departures",
        )
