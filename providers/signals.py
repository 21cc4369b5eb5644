"""Signals other apps listen to (agencies deliver webhooks from them).

``booking_status_changed`` is sent inside the transaction that changes a booking's
status, so what receivers write (webhook deliveries: an outbox) commits or rolls
back with the change; receivers do no network I/O (they queue it for after the
commit) and their errors roll the change back. With
``booking_id``, ``agency_id`` (None for bookings not made by an agency), ``old`` and
``new`` (``Booking.Status`` values; ``old`` is None for a new booking).
"""

from django.dispatch import Signal

booking_status_changed = Signal()
