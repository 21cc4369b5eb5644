"""Forms of the booking pages: the lead traveller at checkout."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

PHONE = RegexValidator(
    r"^\+?[0-9][0-9 ()./-]{4,38}$",
    _("Use digits, spaces and an optional leading +, e.g. +51 ..."),
)


class LeadForm(forms.Form):
    """Who travels first: the booking is in their name, the manage link goes to their
    email."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send the confirmation and your manage link here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        validators=[PHONE],
        help_text=_("With the country code, e.g. +51 951 000 111."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean_name(self) -> str:
        value = self.cleaned_data["name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter the lead traveller's name."))
        return value

    def clean_phone(self) -> str:
        return self.cleaned_data["phone"].strip()
