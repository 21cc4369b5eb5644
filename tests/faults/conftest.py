"""Fault tests start their OWN PostgreSQL and Redis (Debian's binaries, as
bin/_services.sh does) so they can stop them; they skip when the binaries are
missing, unless --require-services (bin/test) makes that an error."""

from __future__ import annotations

import pytest

from tests.faults.servers import available


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    reason = available()
    if reason is None:
        return
    faults = [item for item in items if "faults" in item.keywords]
    if faults and config.getoption("--require-services"):
        raise pytest.UsageError(f"{len(faults)} fault tests selected but {reason}")
    for item in faults:
        item.add_marker(pytest.mark.skip(reason=reason))
