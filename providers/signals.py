"""Signals other apps listen to (agencies deliver webhooks from them).

``booking_status_changed`` is sent once the transaction that changed a booking's
status has committed (never for a change that was rolled back), with
``booking_id``, ``agency_id`` (None for bookings not made by an agency), ``old`` and
``new`` (``Booking.Status`` values; ``old`` is None for a new booking).
"""

from django.dispatch import Signal

booking_status_changed = Signal()
