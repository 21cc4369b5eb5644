"""Domain errors shared by the apps; the API layer turns them into JSON."""


class ApplicationError(Exception):
    """A rule of the domain was broken; ``field`` names the input at fault, if any."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(ApplicationError):
    status_code = 404
    code = "not_found"


class BookingUnavailable(ApplicationError):
    """Not enough free capacity (or the date is closed, past the cut-off, …)."""

    code = "unavailable"


class BookingStateError(ApplicationError):
    """The booking is not in a state that allows this action."""

    status_code = 409
    code = "invalid_state"


class BookingExpired(BookingStateError):
    code = "expired"


class RateLimited(ApplicationError):
    """Too many requests: ``retry_after`` seconds until one more fits (HTTP 429 with
    ``Retry-After``)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
