"""Sentences for travellers, built once and rendered in English and Spanish.

A :class:`Msg` holds a translatable template (a gettext msgid) and its parameters;
parameters that differ by language (place names, titles, "Peru time") are
:class:`Text` pairs. Plans store both renderings, so a plan reads the same whenever
it is fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import translation

LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Text:
    en: str
    es: str

    def get(self, language: str) -> str:
        return self.es if language == "es" and self.es else self.en


@dataclass(frozen=True)
class Msg:
    template: str  # a msgid marked with gettext_noop at its definition
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, language: str) -> str:
        with translation.override(language):
            values = {
                key: _render_value(value, language)
                for key, value in self.params.items()
            }
            return translation.gettext(self.template) % values

    def both(self) -> dict[str, str]:
        return {language: self.render(language) for language in LANGUAGES}


def _render_value(value: object, language: str) -> object:
    if isinstance(value, Text):
        return value.get(language)
    if isinstance(value, Msg):
        return value.render(language)
    if isinstance(value, list | tuple):
        parts = [str(_render_value(v, language)) for v in value]
        return ", ".join(parts)
    return value


def render_all(messages: list[Msg]) -> dict[str, list[str]]:
    """``{"en": [...], "es": [...]}`` without repeating a sentence."""
    result: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for message in messages:
        for language in LANGUAGES:
            text = message.render(language)
            if text not in result[language]:
                result[language].append(text)
    return result
