"""Logins under attack: lockout per account and per client IP on the provider portal
and the admin (django-axes), a bilingual 429 page with Retry-After, the client IP
not taken from X-Forwarded-For, the admin's address from DJANGO_ADMIN_PATH, and staff
two-factor (TOTP) at the admin login."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.providers.portal import factories as f
from tourism.admin_site import staff_totp_enrol
from tourism.logins import client_ip

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PORTAL = "/provider/login/"
ADMIN = "/admin/login/"
STAFF_PASSWORD = "staff-password-4821"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    settings.STAFF_2FA_REQUIRED = False


@pytest.fixture
def member(small_catalogue):
    return f.make_member(f.make_provider())


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        username="staff@example.org",
        email="staff@example.org",
        password=STAFF_PASSWORD,
        is_staff=True,
        is_superuser=True,
    )


def client_from(ip: str, **kwargs) -> Client:
    return Client(REMOTE_ADDR=ip, **kwargs)


def portal_login(client: Client, username: str, password: str, **headers):
    return client.post(
        PORTAL, {"username": username, "password": password}, headers=headers
    )


def admin_login(client: Client, username: str, password: str, code: str = ""):
    return client.post(
        ADMIN,
        {
            "username": username,
            "password": password,
            "otp_token": code,
            "next": "/admin/",
        },
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def locked(response) -> bool:
    return response.status_code == 429 and b"Too many failed logins" in response.content


def lockout_period_passes() -> None:
    """Move every recorded failure back past the cool-off."""
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    )


# --- the lockout ---------------------------------------------------------------------


def test_100_wrong_passwords_then_the_right_one_is_refused(member):
    client = client_from("203.0.113.7")
    for n in range(100):
        response = portal_login(client, member.email, f"guess-{n}")
        assert response.status_code in (200, 429)
    assert locked(response)
    response = portal_login(client, member.email, f.PASSWORD)
    assert locked(response) and not signed_in(client)
    assert response["Retry-After"] == "900"
    assert b"try again in 15 minutes" in response.content
    # Another client, another IP: the account itself is locked.
    other = client_from("198.51.100.9")
    assert locked(portal_login(other, member.email, f.PASSWORD))
    assert not signed_in(other)
    # After the lockout period the right password works again.
    lockout_period_passes()
    response = portal_login(client_from("198.51.100.10"), member.email, f.PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/provider/"


def test_the_lock_starts_at_the_limit(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = client_from("203.0.113.8")
    for n in range(2):
        assert portal_login(client, member.email, f"guess-{n}").status_code == 200
    assert locked(portal_login(client, member.email, "guess-2"))


def test_letter_case_does_not_make_another_account(member):
    client = client_from("203.0.113.11")
    for n, name in enumerate(["A", "B", "C", "D", "E"]):
        portal_login(client_from(f"192.0.2.{n + 1}"), member.email.upper(), name)
    assert locked(portal_login(client, member.email, f.PASSWORD))


def test_one_ip_trying_many_accounts_is_locked(small_catalogue):
    """Five wrong passwords on five different accounts from one IP lock that IP
    (even for a right password of another account); other IPs are not affected."""
    members = [f.make_member(f.make_provider()) for _ in range(6)]
    attacker = client_from("203.0.113.50")
    for victim in members[:5]:
        portal_login(attacker, victim.email, "123456")
    assert locked(portal_login(attacker, members[5].email, f.PASSWORD))
    assert not signed_in(attacker)
    neighbour = client_from("203.0.113.51")
    response = portal_login(neighbour, members[5].email, f.PASSWORD)
    assert response.status_code == 302 and signed_in(neighbour)


def test_a_forged_x_forwarded_for_does_not_escape_the_ip_lock(small_catalogue):
    members = [f.make_member(f.make_provider()) for _ in range(6)]
    attacker = client_from("203.0.113.60")
    for n, victim in enumerate(members[:5]):
        portal_login(attacker, victim.email, "123456", X_Forwarded_For=f"10.9.{n}.1")
    response = portal_login(
        attacker, members[5].email, f.PASSWORD, X_Forwarded_For="192.0.2.200"
    )
    assert locked(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.60"
    }


def test_behind_a_trusted_proxy_each_client_is_counted_apart(small_catalogue, settings):
    """With one proxy of ours, the client is the address it saw (right-most
    X-Forwarded-For entry), as the rate limits take it: one client locked, its
    neighbour behind the same proxy not; entries the client wrote are ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    members = [f.make_member(f.make_provider()) for _ in range(6)]
    proxy = client_from("10.0.0.2")
    for n, victim in enumerate(members[:5]):
        forged = f"192.0.2.{n + 1}, 203.0.113.61"
        portal_login(proxy, victim.email, "123456", X_Forwarded_For=forged)
    response = portal_login(
        proxy, members[5].email, f.PASSWORD, X_Forwarded_For="203.0.113.61"
    )
    assert locked(response)
    response = portal_login(
        client_from("10.0.0.2"),
        members[5].email,
        f.PASSWORD,
        X_Forwarded_For="203.0.113.62",
    )
    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.61"
    }


def test_an_ipv6_client_is_counted_by_its_64(small_catalogue):
    """Changing address inside one /64 does not start a fresh count."""
    members = [f.make_member(f.make_provider()) for _ in range(6)]
    for n, victim in enumerate(members[:5]):
        portal_login(client_from(f"2001:db8:1:2::{n + 1:x}"), victim.email, "123456")
    response = portal_login(
        client_from("2001:db8:1:2:ffff::9"), members[5].email, f.PASSWORD
    )
    assert locked(response)
    response = portal_login(
        client_from("2001:db8:1:3::1"), members[5].email, f.PASSWORD
    )
    assert response.status_code == 302


def test_the_admin_login_locks_too(staff):
    client = client_from("203.0.113.70")
    for n in range(5):
        response = admin_login(client, staff.username, f"guess-{n}")
    assert locked(response)
    assert locked(
        admin_login(client_from("192.0.2.70"), staff.username, STAFF_PASSWORD)
    )
    assert client_from("192.0.2.71").get("/admin/").status_code == 302


def test_the_lockout_page_is_in_spanish_for_spanish_visitors(member):
    client = client_from("203.0.113.80", headers={"Accept-Language": "es"})
    for n in range(5):
        response = portal_login(client, member.email, f"guess-{n}")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Demasiados intentos fallidos" in page and 'lang="es"' in page
    assert "vuelva a intentarlo en 15 minutos" in page


def test_a_right_password_below_the_limit_still_works(member):
    client = client_from("203.0.113.90")
    for n in range(4):
        portal_login(client, member.email, f"guess-{n}")
    response = portal_login(client, member.email, f.PASSWORD)
    assert response.status_code == 302 and signed_in(client)


# --- the admin's address -----------------------------------------------------------

PROBE = """
import json, django
django.setup()
from django.conf import settings
settings.ALLOWED_HOSTS = ["testserver"]
from django.test import Client
from django.urls import reverse
c = Client()
print(json.dumps({
    "login_url": reverse("admin:login"),
    "moved": c.get("/backoffice-7f3a/login/").status_code,
    "old": c.get("/admin/login/").status_code,
    "dashboard": c.get("/staff/dashboard/")["Location"],
}))
"""


def test_the_admin_path_comes_from_the_environment(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tourism.settings",
        DJANGO_ADMIN_PATH="/backoffice-7f3a",
        DJANGO_DEBUG="true",  # plain static files: no collected manifest needed
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["login_url"] == "/backoffice-7f3a/login/"
    assert (found["moved"], found["old"]) == (200, 404)
    assert found["dashboard"].startswith("/backoffice-7f3a/login/?next=")


# --- staff two-factor ----------------------------------------------------------------


def code(device: TOTPDevice, *, steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    near = {code(device, steps=s) for s in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in near)


def test_without_the_flag_staff_without_an_authenticator_use_a_password(staff):
    client = client_from("192.0.2.101")
    response = admin_login(client, staff.username, STAFF_PASSWORD)
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


def test_required_2fa_refuses_staff_without_an_authenticator(staff, settings):
    settings.STAFF_2FA_REQUIRED = True
    client = client_from("192.0.2.102")
    response = admin_login(client, staff.username, STAFF_PASSWORD)
    assert response.status_code == 200 and not signed_in(client)
    assert "need an authenticator app" in response.content.decode()


def test_required_2fa_takes_the_password_and_the_current_code(staff, settings):
    settings.STAFF_2FA_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # wrong then right within one second
    device = staff_totp_enrol(user=staff, name="phone")
    client = client_from("192.0.2.103")
    for given in ("", wrong_code(device), "abc"):
        response = admin_login(client, staff.username, STAFF_PASSWORD, given)
        assert response.status_code == 200 and not signed_in(client)
        assert "6-digit code" in response.content.decode()
    response = admin_login(client, staff.username, STAFF_PASSWORD, code(device))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/staff/dashboard/").status_code == 200


def test_an_enrolled_authenticator_is_asked_for_even_without_the_flag(staff):
    device = staff_totp_enrol(user=staff)
    client = client_from("192.0.2.104")
    response = admin_login(client, staff.username, STAFF_PASSWORD)
    assert response.status_code == 200 and not signed_in(client)
    response = admin_login(client, staff.username, STAFF_PASSWORD, code(device))
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


def test_a_password_only_session_does_not_open_the_admin(staff, settings):
    """Staff signed in through the provider portal (password only) are sent to the
    admin login for the code, for the admin and the staff dashboard alike."""
    settings.STAFF_2FA_REQUIRED = True
    staff_totp_enrol(user=staff)
    client = client_from("192.0.2.105")
    response = portal_login(client, staff.username, STAFF_PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/staff/dashboard/")["Location"].startswith("/admin/login/")


def test_wrong_codes_count_as_failed_logins(staff, settings):
    settings.STAFF_2FA_REQUIRED = True
    device = staff_totp_enrol(user=staff)
    client = client_from("192.0.2.106")
    for _ in range(5):
        response = admin_login(
            client, staff.username, STAFF_PASSWORD, wrong_code(device)
        )
    assert locked(response)
    response = admin_login(
        client_from("192.0.2.107"), staff.username, STAFF_PASSWORD, code(device)
    )
    assert locked(response)


def test_the_enrol_command_prints_the_secret_once(staff, capsys):
    call_command("staff_totp", staff.username, "--name", "phone")
    out = capsys.readouterr().out
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed and device.name == "phone"
    assert device.config_url in out and "otpauth://totp/" in out
    with pytest.raises(CommandError, match="already has an authenticator"):
        call_command("staff_totp", staff.username)
    call_command("staff_totp", staff.username, "--replace")
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    assert TOTPDevice.objects.get(user=staff).pk != device.pk


def test_the_enrol_command_refuses_other_accounts(member):
    with pytest.raises(CommandError, match="not a staff account"):
        call_command("staff_totp", member.username)
    with pytest.raises(CommandError, match="No account"):
        call_command("staff_totp", "nobody@example.org")
    assert not TOTPDevice.objects.exists()


def test_a_request_without_an_address_is_counted_without_one(member, rf):
    """No REMOTE_ADDR (a Unix socket): counted under no address, never a made-up
    one (PostgreSQL's inet column takes only addresses)."""
    request = rf.get("/", REMOTE_ADDR="")
    assert client_ip(request) is None
    assert client_ip(rf.get("/", REMOTE_ADDR="2001:db8::1:2:3")) == "2001:db8::"
    assert client_ip(rf.get("/", REMOTE_ADDR="::ffff:192.0.2.9")) == "192.0.2.9"
    client = Client(REMOTE_ADDR="")
    for n in range(5):
        response = portal_login(client, member.email, f"guess-{n}")
    assert locked(response)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [None]
