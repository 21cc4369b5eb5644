"""An agency's contract: the longest hold it may take (Agency.hold_max_minutes),
edited by staff in the admin, never above HOLD_MAX_MINUTES."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from agencies.models import Agency
from agencies.selectors import agency_hold_max_minutes

pytestmark = pytest.mark.django_db


def test_the_contract_defaults_to_the_global_maximum(agency, settings):
    settings.HOLD_MAX_MINUTES = 600
    assert agency.hold_max_minutes is None
    assert agency_hold_max_minutes(agency) == 600
    agency.hold_max_minutes = 90
    assert agency_hold_max_minutes(agency) == 90
    agency.hold_max_minutes = 900  # set before HOLD_MAX_MINUTES was lowered
    assert agency_hold_max_minutes(agency) == 600


def test_staff_set_the_contract_in_the_admin(admin_client, agency, settings):
    settings.HOLD_MAX_MINUTES = 1440
    url = f"/admin/agencies/agency/{agency.pk}/change/"
    form = admin_client.get(url)
    assert form.status_code == 200
    assert 'name="hold_max_minutes"' in form.content.decode()
    data = {
        "name": agency.name,
        "contact_email": agency.contact_email,
        "commission_bps": agency.commission_bps,
        "is_active": "on",
        "hold_max_minutes": "2000",
        **{
            f"{prefix}-{field}": "0"
            for prefix in ("members", "api_keys", "webhooks")
            for field in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200  # the form again, with the error
    assert "At most 1440 minutes" in refused.content.decode()
    agency.refresh_from_db()
    assert agency.hold_max_minutes is None
    saved = admin_client.post(url, {**data, "hold_max_minutes": "120"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    agency.refresh_from_db()
    assert agency.hold_max_minutes == 120


def test_a_contract_above_the_ceiling_names_the_field(settings):
    settings.HOLD_MAX_MINUTES = 60
    with pytest.raises(ValidationError) as raised:
        Agency(name="Too long", hold_max_minutes=61).full_clean()
    assert list(raised.value.message_dict) == ["hold_max_minutes"]
    with pytest.raises(ValidationError) as raised:
        Agency(name="Zero", hold_max_minutes=0).full_clean()
    assert list(raised.value.message_dict) == ["hold_max_minutes"]
