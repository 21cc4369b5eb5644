"""Plans never stuck: the sweep queues again a plan left queued or solving past its
deadline, a bounded number of times, then fails it with a reason the traveller can
read in English and Spanish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from itineraries.models import TripPlan
from itineraries.selectors import plan_secret_hash
from itineraries.services import plans_sweep_stuck

pytestmark = pytest.mark.django_db

REQUEST = {"origin": "cusco", "destination": "la-paz", "start_date": "2027-05-01"}


SECRET = "sweep-test-secret"


def plan(status: str, *, age_s: float, started: bool = True) -> TripPlan:
    made = TripPlan.objects.create(
        request=REQUEST, status=status, secret_hash=plan_secret_hash(SECRET)
    )
    when = timezone.now() - dt.timedelta(seconds=age_s)
    TripPlan.objects.filter(pk=made.pk).update(
        created_at=when, started_at=when if started else None
    )
    return made


def test_stuck_plans_are_queued_again_then_failed(settings, client):
    settings.PLAN_STUCK_AFTER_SECONDS = 70
    settings.PLAN_MAX_REQUEUES = 2
    solving = plan(TripPlan.Status.SOLVING, age_s=200)
    queued = plan(TripPlan.Status.QUEUED, age_s=200, started=False)
    fresh = plan(TripPlan.Status.SOLVING, age_s=10)
    done = plan(TripPlan.Status.SOLVED, age_s=999)

    with TestCase.captureOnCommitCallbacks(execute=False) as published:
        assert plans_sweep_stuck() == {"requeued": 2, "failed": 0}
    assert len(published) == 2  # one solve queued per plan, after the commit
    for stuck in (solving, queued):
        stuck.refresh_from_db()
        assert (stuck.status, stuck.requeues) == (TripPlan.Status.QUEUED, 1)
    # Just queued again: not stuck until its new deadline; the recent one is left.
    assert plans_sweep_stuck() == {"requeued": 0, "failed": 0}
    fresh.refresh_from_db()
    assert (fresh.status, fresh.requeues) == (TripPlan.Status.SOLVING, 0)
    TripPlan.objects.filter(pk=fresh.pk).update(status=TripPlan.Status.SOLVED)

    later = timezone.now() + dt.timedelta(seconds=71)
    assert plans_sweep_stuck(now=later) == {"requeued": 2, "failed": 0}
    even_later = later + dt.timedelta(seconds=71)
    assert plans_sweep_stuck(now=even_later) == {"requeued": 0, "failed": 2}
    solving.refresh_from_db()
    assert solving.status == TripPlan.Status.FAILED and solving.requeues == 2
    assert solving.error.startswith("We could not finish this plan")
    assert solving.explanation["es"][0].startswith("No pudimos terminar este plan")
    done.refresh_from_db()
    assert done.status == TripPlan.Status.SOLVED and done.requeues == 0

    api = client.get(
        f"/api/v1/plans/{solving.pk}/",
        HTTP_ACCEPT_LANGUAGE="es",
        HTTP_X_PLAN_SECRET=SECRET,
    )
    assert api.status_code == 200
    assert api.json()["status"] == "failed"
    assert api.json()["explanation"][0].startswith("No pudimos terminar")
