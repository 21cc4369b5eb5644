"""Self sign-up, log in / log out, and pending providers' listings."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalogue.models import Country, Place
from providers import selectors, services
from providers.models import Listing, Provider, ProviderMember, ValueChain
from tests.providers.portal import factories as f

pytestmark = pytest.mark.django_db


def _signup_data(**overrides) -> dict:
    puno = Place.objects.get(slug="puno")
    data = {
        "email": "Rosa.Mamani@Example.org",
        "password": f.PASSWORD,
        "password_confirm": f.PASSWORD,
        "name": "Familia Mamani – Amantaní",
        "kind": Provider.Kind.FAMILY,
        "country": puno.country_id,
        "home_place": puno.pk,
        "contact_name": "Rosa Mamani",
        "phone": "+51 951 123 456",
        "value_chains": [ValueChain.objects.get(code="camelids").pk],
        "community_run": "on",
    }
    data.update(overrides)
    return data


def test_signup_creates_a_pending_provider_and_logs_in(
    client, small_catalogue, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """Sign-up makes the user (email as username), a pending provider, its owner
    membership, logs in and emails staff."""
    settings.ADMINS = [("Staff", "staff@example.org")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/provider/signup/", _signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/provider/"
    user = get_user_model().objects.get(username="rosa.mamani@example.org")
    assert user.check_password(f.PASSWORD)
    provider = Provider.objects.get()
    assert provider.status == Provider.Status.PENDING
    assert provider.slug == "familia-mamani-amantani"
    assert provider.community_run
    assert [v.code for v in provider.value_chains.all()] == ["camelids"]
    member = ProviderMember.objects.get()
    assert (member.user, member.provider, member.role) == (user, provider, "owner")
    dashboard = client.get("/provider/")
    assert dashboard.status_code == 200
    assert "Waiting for approval." in dashboard.content.decode()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["staff@example.org"]
    assert "Familia Mamani" in mailoutbox[0].subject
    assert "Nuevo proveedor por aprobar" in mailoutbox[0].subject
    body = mailoutbox[0].body
    assert body.index("Un proveedor se registró") < body.index("A provider signed up")
    assert "Rosa Mamani" in body and "Puno" in body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "TAKEN@example.org"}, "email"),
        ({"password": "12345678", "password_confirm": "12345678"}, "password"),
        ({"password": "short", "password_confirm": "short"}, "password"),
        ({"password_confirm": "another-Password-1"}, "password_confirm"),
        ({"home_place": 999_999}, "home_place"),
        ({"home_place": "atlantis"}, "home_place"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
    ],
)
def test_signup_bad_input_shows_field_errors(client, small_catalogue, overrides, field):
    """Duplicate email, weak password, unknown place…: the field's error, nothing
    created."""
    f.make_user(email="taken@example.org")
    users = get_user_model().objects.count()
    response = client.post("/provider/signup/", _signup_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="errorlist' in response.content.decode()
    assert get_user_model().objects.count() == users
    assert not Provider.objects.exists()


def test_signup_home_place_must_be_in_the_country(client, small_catalogue):
    """A Bolivian place with Peru as the country is refused on home_place."""
    data = _signup_data(home_place=Place.objects.get(slug="copacabana").pk)
    data["country"] = Country.objects.get(code="PE").pk
    response = client.post("/provider/signup/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["home_place"]
    assert not Provider.objects.exists()


def test_signed_in_user_without_provider_sees_how_to_sign_up(small_catalogue):
    """A login without a provider gets a page pointing to the sign-up, and can sign
    up its provider without a new password."""
    user = f.make_user(email="guide@example.org")
    client = f.logged_in(user)
    page = client.get("/provider/bookings/")
    assert page.status_code == 200
    assert "/provider/signup/" in page.content.decode()
    form_page = client.get("/provider/signup/")
    assert "password" not in form_page.context["form"].fields
    data = _signup_data(email="guide@example.org")
    del data["password"], data["password_confirm"]
    response = client.post("/provider/signup/", data)
    assert response.status_code == 302
    assert selectors.provider_for_user(user).name == "Familia Mamani – Amantaní"


def test_anonymous_users_are_sent_to_the_login(client, small_catalogue):
    """Every portal page redirects anonymous visitors to the portal login."""
    response = client.get("/provider/bookings/?status=pending")
    assert response.status_code == 302
    assert response["Location"].startswith("/provider/login/?next=")


def test_login_with_email_in_any_case_and_logout(small_catalogue):
    """The email logs in whatever its letter case; logging out is a POST."""
    provider = f.make_provider()
    f.make_member(provider, email="quispe@example.org")
    client = Client()
    page = client.get("/provider/login/")
    assert page.status_code == 200
    response = client.post(
        "/provider/login/", {"username": "Quispe@Example.org", "password": f.PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/provider/"
    assert client.get("/provider/").status_code == 200
    assert client.post("/provider/logout/").status_code == 302
    assert client.get("/provider/").status_code == 302


def test_wrong_password_is_an_error_not_a_login(client, small_catalogue):
    """A wrong password re-shows the login form with an error."""
    f.make_member(f.make_provider(), email="quispe@example.org")
    response = client.post(
        "/provider/login/", {"username": "quispe@example.org", "password": "nope"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_pending_providers_listings_are_not_bookable_until_approved(
    client, small_catalogue
):
    """A pending provider prepares a listing in the portal; it is public only after
    ``services.provider_approve``."""
    client.post("/provider/signup/", _signup_data())
    provider = Provider.objects.get()
    listing = f.make_listing(provider)
    assert listing not in selectors.listing_list_bookable()
    dashboard = client.get("/provider/").content.decode()
    assert "Not public yet" in dashboard
    services.provider_approve(provider=provider)
    assert listing in selectors.listing_list_bookable()
    assert Listing.objects.filter(provider=provider).count() == 1
