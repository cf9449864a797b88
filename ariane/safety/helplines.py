"""Crisis helplines by country, from data/helplines.yaml (editable, validated on load).

`load_helplines()` refuses a file with a missing phrase, a number that is not a phone number, or
a phrase that does not contain its own number; errors name the country and line at fault.
`Helplines.for_locale("fr-FR")` gives France's entry; an unknown region gives `international`.
`Helplines.for_player(locale, lang, server_locale)` gives the entries a crisis reply lists: the
player's region when the page sent one; otherwise the deployment's, and, for a message in another
language, that language's main country (`languages:` in the file) and the international entry.
`locale_from_accept_language` reads the browser's Accept-Language header.

Example:
    >>> lines = load_helplines()
    >>> lines.for_locale("fr-FR").helplines[0].number
    '3114'
    >>> lines.for_locale("pt-BR").code
    'international'
    >>> [c.code for c in lines.for_player(None, "fr", "en-GB")]
    ['GB', 'FR', 'international']
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

HELPLINES_FILE = Path(__file__).resolve().parents[2] / "data" / "helplines.yaml"
LANGUAGES = ("en", "fr")  # every phrase exists in each of these
INTERNATIONAL = "international"
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,18}$")
_REGION = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True)
class Helpline:
    name: str
    phrases: dict  # language -> phrase read after "call" (phone) or "go to" (url)
    number: str | None = None  # phone number as dialled, e.g. "116 123"
    url: str | None = None  # a web page instead of a phone number
    source: str = ""  # where the number was checked

    def phrase(self, lang: str) -> str:
        return self.phrases.get(lang) or self.phrases["en"]


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2 ("FR"), or "international"
    name: str
    emergency_number: str
    emergency: dict  # language -> how to say the emergency number(s)
    helplines: tuple  # of Helpline, the first is the main one
    names: dict = field(default_factory=dict)  # language -> the country's name in it (name_fr), else `name`
    support: Helpline | None = None  # a listening line for distress that is not a crisis (`support:`), else helplines[0]

    @property
    def support_line(self) -> Helpline:
        return self.support or self.helplines[0]

    def emergency_phrase(self, lang: str) -> str:
        return self.emergency.get(lang) or self.emergency["en"]

    def name_in(self, lang: str) -> str:
        return self.names.get(lang) or self.name


@dataclass(frozen=True)
class Helplines:
    countries: dict  # code -> Country
    international: Country
    reviewed: str = ""
    languages: dict = field(default_factory=dict)  # language -> code of its main country ("fr" -> "FR")

    def for_locale(self, locale: str | None) -> Country:
        """The entry for the locale's region ("en-GB", "fr_CA", "fr-CH.UTF-8"); else international."""
        region = region_of(locale)
        return self.countries.get(region, self.international) if region else self.international

    def for_player(self, locale: str | None, lang: str, server_locale: str) -> list[Country]:
        """The entries a crisis reply lists, the first one first.

        Args:
            locale: str | None. The player's locale from the page (Accept-Language), if any.
            lang: str. The language of the message ("en", "fr").
            server_locale: str. The deployment's locale (ARIANE_LOCALE).
        """
        if region_of(locale):
            return [self.for_locale(locale)]
        out = [self.for_locale(server_locale)]
        if lang != str(server_locale)[:2].lower():
            main = self.countries.get(self.languages.get(lang, ""))
            out += [c for c in (main, self.international) if c is not None and c not in out]
        return out


def region_of(locale: str | None) -> str | None:
    """'fr-FR' -> 'FR', 'en_gb.UTF-8' -> 'GB', 'fr' -> None."""
    if not locale:
        return None
    parts = re.split(r"[-_.@]", str(locale).strip())
    return parts[1].upper() if len(parts) > 1 and _REGION.match(parts[1]) else None


def locale_from_accept_language(header: str | None) -> str | None:
    """The browser's preferred locale: 'fr-FR,fr;q=0.9,en;q=0.8' -> 'fr-FR'; 'fr,en;q=0.5' -> 'fr'
    (a bare language: its region is unknown); '' or '*' -> None. A tag of the preferred language
    that names a region wins over the bare language ('fr,fr-BE;q=0.9' -> 'fr-BE')."""
    tags = []
    for i, part in enumerate(str(header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag.strip()) and q > 0:
            tags.append((-q, i, tag.strip()))
    if not tags:
        return None
    tags.sort()
    first = tags[0][2]
    lang = first.split("-")[0].lower()
    with_region = next((t for _, _, t in tags if t.split("-")[0].lower() == lang and region_of(t)), None)
    return with_region or lang


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phrases(entry: dict, where: str) -> dict:
    phrases = {}
    for lang in LANGUAGES:
        value = entry.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: missing the '{lang}' phrase")
        phrases[lang] = value.strip()
    return phrases


def _helpline(entry, where: str) -> Helpline:
    if not isinstance(entry, dict) or not entry.get("name"):
        raise ValueError(f"{where}: expected a mapping with 'name', 'number' (or 'url') and the phrases {', '.join(LANGUAGES)}")
    where = f"{where} ({entry['name']})"
    number, url = entry.get("number"), entry.get("url")
    if (number is None) == (url is None):
        raise ValueError(f"{where}: give exactly one of 'number' and 'url'")
    phrases = _phrases(entry, where)
    if number is not None:
        number = str(number).strip()
        if not _PHONE.match(number):
            raise ValueError(f"{where}: {number!r} is not a phone number (digits and spaces, optional leading +)")
        for lang, phrase in phrases.items():
            if _digits(number) not in _digits(phrase):
                raise ValueError(f"{where}: the '{lang}' phrase does not contain the number {number}")
    else:
        url = str(url).strip()
        host = re.sub(r"^https?://(www\.)?", "", url).split("/")[0]
        if not url.startswith(("https://", "http://")) or not host:
            raise ValueError(f"{where}: {url!r} is not a web address")
        for lang, phrase in phrases.items():
            if host.casefold() not in phrase.casefold():
                raise ValueError(f"{where}: the '{lang}' phrase does not contain {host}")
    return Helpline(str(entry["name"]), phrases, number, url, str(entry.get("source", "")))


def _country(code: str, entry, where: str) -> Country:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping with 'name', 'emergency' and 'helplines'")
    emergency = entry.get("emergency")
    if not isinstance(emergency, dict) or not str(emergency.get("number", "")).strip():
        raise ValueError(f"{where}: missing 'emergency' with a 'number'")
    e_number = str(emergency["number"]).strip()
    if not _PHONE.match(e_number):
        raise ValueError(f"{where}: emergency number {e_number!r} is not a phone number")
    e_phrases = _phrases(emergency, f"{where}: emergency")
    for lang, phrase in e_phrases.items():
        if _digits(e_number) not in _digits(phrase):
            raise ValueError(f"{where}: emergency: the '{lang}' phrase does not contain {e_number}")
    lines = entry.get("helplines")
    if not isinstance(lines, list) or not lines:
        raise ValueError(f"{where}: needs at least one entry under 'helplines'")
    helplines = tuple(_helpline(h, f"{where}: helplines[{i}]") for i, h in enumerate(lines))
    names = {"en": str(entry.get("name", code)), "fr": str(entry.get("name_fr") or entry.get("name", code))}
    support = _helpline(entry["support"], f"{where}: support") if entry.get("support") is not None else None
    return Country(code, names["en"], e_number, e_phrases, helplines, names, support)


def parse_helplines(data, where: str = "helplines") -> Helplines:
    """Build and check Helplines from parsed YAML; raises ValueError naming the entry at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("countries"), dict):
        raise ValueError(f"{where}: expected a mapping with 'countries' and 'international'")
    countries = {}
    for code, entry in data["countries"].items():
        if not isinstance(code, str) or not _REGION.match(code) or code != code.upper():
            raise ValueError(f"{where}: countries: {code!r} is not a two-letter region code like FR or GB")
        countries[code] = _country(code, entry, f"{where}: countries.{code}")
    if "international" not in data:
        raise ValueError(f"{where}: missing 'international' (the entry for every other locale)")
    international = _country(INTERNATIONAL, data["international"], f"{where}: international")
    languages = data.get("languages") or {}
    if not isinstance(languages, dict):
        raise ValueError(f"{where}: languages: expected a mapping like 'fr: FR'")
    for lang, code in languages.items():
        if code not in countries:
            raise ValueError(f"{where}: languages: {lang}: {code!r} is not one of the countries ({', '.join(countries)})")
    return Helplines(countries, international, str(data.get("reviewed", "")), dict(languages))


@functools.lru_cache(maxsize=4)
def load_helplines(path=HELPLINES_FILE) -> Helplines:
    """Read and validate a helplines file (cached per path)."""
    from ariane.files import read_yaml

    return parse_helplines(read_yaml(path, "helplines file (the crisis reply needs it)"), str(path))
