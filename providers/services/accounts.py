"""Provider organisations: sign-up, approval, suspension."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalogue.models import Country, Place
from providers import notifications
from providers.models import (
    Provider,
    ProviderMember,
    ValueChain,
)

# --- Providers ------------------------------------------------------------------------


def provider_approve(*, provider: Provider, now: dt.datetime | None = None) -> Provider:
    """Staff approve a provider: its active listings become public."""
    provider.status = Provider.Status.APPROVED
    provider.approved_at = now or timezone.now()
    provider.save(update_fields=["status", "approved_at"])
    return provider


def provider_suspend(*, provider: Provider) -> Provider:
    provider.status = Provider.Status.SUSPENDED
    provider.save(update_fields=["status"])
    return provider


def _unique_provider_slug(name: str) -> str:
    base = (slugify(name) or "provider")[:70].strip("-") or "provider"
    slug, n = base, 1
    while Provider.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def provider_signup(
    *,
    email: str,
    name: str,
    kind: str,
    country: Country,
    home_place: Place,
    contact_name: str,
    password: str | None = None,
    user: AbstractBaseUser | None = None,
    phone: str = "",
    value_chains: Iterable[ValueChain] = (),
    community_run: bool = False,
) -> ProviderMember:
    """A provider signs itself up, waiting for approval: a login with the email as
    username (unless an existing ``user`` without a provider signs up), the provider
    and its owner membership (returned). Staff are emailed. Errors name the field."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email.strip()).lower()
    errors: dict[str, list[str]] = {}
    if home_place.country_id != country.pk:
        errors["home_place"] = [
            _("%(place)s is not in %(country)s.")
            % {"place": home_place.name, "country": country.name}
        ]
    if user is None:
        taken = user_model.objects.filter(username__iexact=email).exists() or (
            user_model.objects.filter(email__iexact=email).exists()
        )
        if taken:
            errors["email"] = [_("An account with this email already exists.")]
        try:
            validate_password(
                password or "",
                user=user_model(username=email, email=email, first_name=contact_name),
            )
        except ValidationError as exc:
            errors["password"] = exc.messages
    elif ProviderMember.objects.filter(user=user).exists():
        errors["__all__"] = [_("This account already works for a provider.")]
    provider = Provider(
        name=name.strip(),
        slug=_unique_provider_slug(name),
        kind=kind,
        country=country,
        home_place=home_place,
        community_run=community_run,
        contact_name=contact_name.strip(),
        email=email,
        phone=phone.strip(),
        status=Provider.Status.PENDING,
    )
    try:
        provider.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if user is None:
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    username=email, email=email, password=password
                )
        except IntegrityError as exc:  # a racing sign-up with the same email
            raise ValidationError(
                {"email": _("An account with this email already exists.")}
            ) from exc
    provider.save()
    provider.value_chains.set(value_chains)
    member = ProviderMember.objects.create(
        provider=provider, user=user, role=ProviderMember.Role.OWNER
    )
    notifications.provider_signed_up_queue(provider_id=provider.pk)
    return member
