"""Writes of the providers app, by topic; everything public is re-exported here so
callers keep writing ``from providers.services import booking_hold``.

Never oversell: see ``providers.services.bookings``.
"""

from providers.services.accounts import (
    provider_approve,
    provider_signup,
    provider_suspend,
)
from providers.services.availability import slot_get_or_create, slot_set
from providers.services.bookings import (
    Quote,
    booking_accept,
    booking_cancel,
    booking_confirm,
    booking_decline,
    booking_expire_holds,
    booking_hold,
    booking_mark_attendance,
    cancellation_refund,
    price_quote,
)
from providers.services.listings import (
    GUIDE_LANGUAGES,
    LISTING_COMMON_FIELDS,
    LISTING_KIND_FIELDS,
    MAX_PHOTOS_PER_LISTING,
    PriceInput,
    UnitInput,
    listing_create,
    listing_save,
    listing_update,
    photo_add,
    photo_delete,
    price_schedule_create,
    price_schedule_upsert,
    unit_delete,
    unit_upsert,
)

__all__ = [
    "GUIDE_LANGUAGES",
    "LISTING_COMMON_FIELDS",
    "LISTING_KIND_FIELDS",
    "MAX_PHOTOS_PER_LISTING",
    "PriceInput",
    "Quote",
    "UnitInput",
    "booking_accept",
    "booking_cancel",
    "booking_confirm",
    "booking_decline",
    "booking_expire_holds",
    "booking_hold",
    "booking_mark_attendance",
    "cancellation_refund",
    "listing_create",
    "listing_save",
    "listing_update",
    "photo_add",
    "photo_delete",
    "price_quote",
    "price_schedule_create",
    "price_schedule_upsert",
    "provider_approve",
    "provider_signup",
    "provider_suspend",
    "slot_get_or_create",
    "slot_set",
    "unit_delete",
    "unit_upsert",
]
