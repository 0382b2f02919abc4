"""Interface strings through Babel/gettext catalogs in locales/<lang>/LC_MESSAGES/messages.po.

The .po files are compiled in memory at start-up, so a fresh checkout runs without a build step
(`make catalogs` still extracts, updates and compiles them for translators' tools).
Translate first, then format: `tr._("Hello {name}").format(name=...)`.
"""

from __future__ import annotations

import gettext
import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)


class Translator:
    """The catalog of one language. Method names are the keywords `pybabel extract` looks for."""

    def __init__(self, language: str, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def _(self, message: str) -> str:
        """Translate `message`."""
        return self._translations.gettext(message)

    def n_(self, singular: str, plural: str, count: int) -> str:
        """Translate a message that depends on a count (Arabic has six plural forms)."""
        return self._translations.ngettext(singular, plural, count)

    def p_(self, context: str, message: str) -> str:
        """Translate a short label whose meaning needs a context, such as a button."""
        return self._translations.pgettext(context, message)


class Catalogs:
    """Every language's catalog, loaded once."""

    def __init__(self, translators: dict[str, Translator]) -> None:
        self._translators = translators

    @classmethod
    def load(cls, folder: Path, languages: tuple[str, ...]) -> Catalogs:
        """Compile each language's .po file; a language without one falls back to English."""
        translators = {}
        for language in languages:
            path = folder / language / "LC_MESSAGES" / "messages.po"
            translations: gettext.NullTranslations = gettext.NullTranslations()
            if path.exists():
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=language)
                buffer = io.BytesIO()
                write_mo(buffer, catalog, use_fuzzy=False)
                buffer.seek(0)
                translations = gettext.GNUTranslations(buffer)
            elif language != "en":
                logger.warning("no catalog for language %s; using English strings", language)
            translators[language] = Translator(language, translations)
        return cls(translators)

    def replace(self, other: Catalogs) -> None:
        """Use `other`'s translations from now on (a reload)."""
        self._translators = other._translators

    def get(self, language: str) -> Translator:
        """The catalog of `language` (English for an unknown one)."""
        return self._translators.get(language) or self._translators.get("en") or Translator(
            "en", gettext.NullTranslations()
        )
