"""Route facts the itinerary checker judges plans against, transcribed by hand.

Every value here was read from the research briefs ``../shared/route-facts.md``
(source key ``RF §n``) and ``../shared/route-facts-2.md`` (``RF2 §n``, with the
brief's own page keys such as ``[T09]``), not from the service's catalogue: the
checker must be able to disagree with the catalogue. Values the briefs flag
**[ESTIMATE]** or that I derived (road distances, a sum of legs) say so in their
source text.

Conventions:

- Times are local wall-clock ``"HH:MM"`` strings in the place's own country (Peru
  UTC−5, Bolivia UTC−4, neither with DST: RF §0.1).
- Minutes are **elapsed** minutes (UTC difference), so the +1 h into Bolivia does not
  count as travel time.
- A leg's minimum is the lowest door-to-door time the sources report for that pair
  (one way, either direction unless ``oneway``), sometimes rounded down a little where
  the source says "about". A ride shorter than that is faster than the road.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PE = "PE"
BO = "BO"
# RF §0.1: America/Lima is fixed UTC−5, America/La_Paz fixed UTC−4 (tzdata 2025b).
UTC_OFFSET_H = {PE: -5, BO: -4}
ZONE_NAME = {PE: "Peru time", BO: "Bolivia time"}


# --- Places ----------------------------------------------------------------------------

HUB = "hub"
ISLAND = "island"
POST = "post"  # a border post or a Tiquina landing
SITE = "site"
TOWN = "town"
AIRPORT = "airport"
PASS = "pass"


@dataclass(frozen=True)
class Place:
    slug: str
    name: str
    country: str
    alt_lo: int  # sleeping / visiting altitude range, metres
    alt_hi: int
    lat: float
    lon: float
    kind: str
    source: str


def _p(slug, name, country, alt, lat, lon, kind, source) -> Place:
    lo, hi = (alt, alt) if isinstance(alt, int) else alt
    return Place(slug, name, country, lo, hi, lat, lon, kind, source)


# fmt: off
PLACES: dict[str, Place] = {p.slug: p for p in (
    #  slug                        name                          ctry altitude m     lat         lon         kind     source
    _p("cusco",                    "Cusco",                      PE, (3310, 3400), -13.53188,  -71.96701,  HUB,     "RF §1"),
    _p("cusco-airport",            "Cusco airport (CUZ)",        PE, 3310,         -13.5357,   -71.9388,   AIRPORT, "RF §1 (airportsdata)"),
    _p("andahuaylillas",           "Andahuaylillas",             PE, (3121, 3122), -13.6725,   -71.67944,  TOWN,    "RF §1 [lll]"),
    _p("raqchi",                   "Raqchi",                     PE, (3460, 3550), -14.175,    -71.366667, SITE,    "RF §1"),
    _p("abra-la-raya",             "Abra La Raya",               PE, (4319, 4360), -14.48333,  -70.98917,  PASS,    "RF §1 [qq]"),
    _p("pisac",                    "Pisac",                      PE, 2972,         -13.4225,   -71.84667,  TOWN,    "RF §1; altitude RF2 §1.2 [S10]"),
    _p("chinchero",                "Chinchero",                  PE, 3762,         -13.3922,   -72.0478,   TOWN,    "RF2 §1.2 [S11]"),
    _p("pisac-ruins",              "Pisac archaeological park",  PE, (3300, 3400), -13.4032,   -71.8436,   SITE,    "RF2 §1.2 sv_pisac_ruins [UNVERIFIED coords] [S10]"),
    _p("pukara",                   "Pukará",                     PE, (3879, 3910), -15.03944,  -70.36767,  TOWN,    "RF §1 [mmm]"),
    _p("juliaca",                  "Juliaca",                    PE, 3825,         -15.5,      -70.13333,  TOWN,    "RF §1 [f]"),
    _p("juliaca-airport",          "Juliaca airport (JUL)",      PE, 3826,         -15.4671,   -70.1582,   AIRPORT, "RF §1 (airportsdata)"),
    _p("puno",                     "Puno",                       PE, (3810, 3830), -15.84003,  -70.02198,  HUB,     "RF §1 [c][d][e]"),
    _p("sillustani",               "Sillustani",                 PE, (3840, 3915), -15.7167,   -70.1583,   SITE,    "RF §1 [UNVERIFIED coords]"),
    _p("chucuito",                 "Chucuito",                   PE, 3875,         -15.89441,  -69.88993,  TOWN,    "RF §1 [kkk]"),
    _p("luquina-chico",            "Luquina Chico",              PE, 3812,         -15.8378,   -69.8056,   TOWN,    "RF §1 [ff] (stand-in coords)"),
    _p("uros",                     "Uros floating islands",      PE, (3810, 3812), -15.8178,   -69.9717,   ISLAND,  "RF §1 [v]"),
    _p("capachica",                "Capachica",                  PE, (3860, 3880), -15.6419,   -69.83076,  TOWN,    "RF §1 [ooo] (district range)"),
    _p("llachon",                  "Llachón",                    PE, (3827, 3870), -15.7229,   -69.7839,   TOWN,    "RF §1 [dd][ee]"),
    # RF §5: Taquile / Amantaní homes "likely ~3,850–4,000 (not measured)".
    _p("taquile",                  "Taquile",                    PE, (3850, 4000), -15.76667,  -69.68333,  ISLAND,  "RF §1, §5"),
    _p("amantani",                 "Amantaní",                   PE, (3850, 4000), -15.65718,  -69.71825,  ISLAND,  "RF §1, §5"),
    _p("yunguyo",                  "Yunguyo",                    PE, (3820, 3850), -16.25,     -69.08333,  TOWN,    "RF §1 [UNVERIFIED altitude]"),
    _p("kasani-pe",                "Kasani (Peru post)",         PE, 3830,         -16.2097,   -69.0847,   POST,    "RF §1 [eee]"),
    _p("kasani-bo",                "Kasani (Bolivia post)",      BO, 3830,         -16.2097,   -69.0847,   POST,    "RF §1 [eee]"),
    _p("desaguadero-pe",           "Desaguadero (Peru)",         PE, 3827,         -16.56609,  -69.042,    POST,    "RF §1 [l]"),
    _p("desaguadero-bo",           "Desaguadero (Bolivia)",      BO, (3800, 3850), -16.56834,  -69.03415,  POST,    "RF §1 (altitude n/f, '~3,8xx')"),
    _p("cebaf-desaguadero",        "CEBAF Desaguadero",          PE, (3810, 3830), -16.5661,   -69.0420,   POST,    "RF §1 (stand-in coords), §3.2"),
    _p("copacabana",               "Copacabana",                 BO, (3840, 3862), -16.1699,   -69.07919,  HUB,     "RF §1 [o][p]"),
    # RF §1 / §5: Yumani village ≈3,950–4,000 m, "sleeping altitude ≈4,000 m".
    _p("isla-del-sol-yumani",      "Isla del Sol (Yumani)",      BO, (3950, 4000), -16.03574,  -69.14843,  ISLAND,  "RF §1 [nnn], §5"),
    _p("isla-del-sol-challapampa", "Isla del Sol (Challapampa)", BO, 3815,         -15.9975,   -69.1831,   ISLAND,  "RF §1 [fff]"),
    _p("isla-de-la-luna",          "Isla de la Luna",            BO, 3821,         -16.039688, -69.075106, ISLAND,  "RF §1 [u]"),
    _p("pilko-kaina",              "Pilko Kaina (Isla del Sol)", BO, (3810, 3900), -16.0396,   -69.1450,   SITE,    "RF2 §1.6 is_pilkokaina [UNVERIFIED coords]; ~3,850 [ESTIMATE]"),
    # RF2 §2.3 [T23]: the end of the 17 km pilgrim road, a 30-min boat from the island;
    # no coordinates or altitude in the briefs: a lakeshore point on that road [ESTIMATE].
    _p("yampupata",                "Yampupata",                  BO, (3810, 3900), -16.06,     -69.17,     TOWN,    "RF2 §2.3 [T23] (coords, altitude ESTIMATE)"),
    _p("san-pedro-de-tiquina",     "San Pedro de Tiquina",       BO, 3846,         -16.23717,  -68.85063,  POST,    "RF §1 [hhh]"),
    _p("san-pablo-de-tiquina",     "San Pablo de Tiquina",       BO, (3824, 3843), -16.21795,  -68.8428,   POST,    "RF §1 [ggg]"),
    _p("tiwanaku",                 "Tiwanaku",                   BO, (3863, 3885), -16.557655, -68.676141, SITE,    "RF §1 [zz]; RF2 §1.8"),
    _p("el-alto",                  "El Alto",                    BO, 4150,         -16.5,      -68.2,      TOWN,    "RF §1 [r]"),
    _p("el-alto-airport",          "El Alto airport (LPB)",      BO, 4071,         -16.5133,   -68.1923,   AIRPORT, "RF §1 (airportsdata)"),
    _p("la-paz",                   "La Paz",                     BO, (3625, 3650), -16.5,      -68.15,     HUB,     "RF §1 [a][b][q]"),
    _p("valle-de-la-luna",         "Valle de la Luna",           BO, (3200, 3300), -16.5680,   -68.0940,   SITE,    "RF2 §1.7 [S26] (coords ESTIMATE)"),
    _p("chacaltaya",               "Chacaltaya",                 BO, (5200, 5395), -16.350,    -68.130,    SITE,    "RF2 §1.8 [S33] (coords ESTIMATE)"),
)}
# fmt: on

HUBS = ("cusco", "puno", "copacabana", "la-paz")
# The airport a traveller flying in to the origin lands at (RF §1, §2.9).
ARRIVAL_AIRPORTS = {
    "cusco": ("cusco-airport",),
    "puno": ("juliaca-airport", "juliaca"),
    "la-paz": ("el-alto-airport", "el-alto"),
    "copacabana": (),
}
# Isla del Sol is one island with two villages (RF §1): nights on it count together.
ISLAND_OF = {
    "uros": "uros",
    "taquile": "taquile",
    "amantani": "amantani",
    "isla-del-sol-yumani": "isla-del-sol",
    "isla-del-sol-challapampa": "isla-del-sol",
    "isla-de-la-luna": "isla-de-la-luna",
}
# Overnight excursions reached through a hub and left back through it (RF §2.6, §2.7,
# RF2 §2.6 "best as overnights"): one return to the hub after them is the normal way on.
SATELLITES = {
    "puno": frozenset(
        {
            "uros",
            "taquile",
            "amantani",
            "llachon",
            "capachica",
            "luquina-chico",
            "chucuito",
            "sillustani",
        }
    ),
    "copacabana": frozenset(
        {
            "isla-del-sol-yumani",
            "isla-del-sol-challapampa",
            "isla-de-la-luna",
            "pilko-kaina",
            "yampupata",
        }
    ),
    "cusco": frozenset(
        {"pisac", "pisac-ruins", "chinchero", "andahuaylillas", "raqchi"}
    ),
    "la-paz": frozenset({"tiwanaku", "el-alto", "valle-de-la-luna", "chacaltaya"}),
}
# A hub's twin city, ~10 min away by cable car (RF2 §2.4 [T29] [S25]: La Paz ↔ El
# Alto, Red Line): going there on several days of a stay in the hub is going about
# the city, not a repeated excursion.
TWIN_CITY = {"el-alto": "la-paz"}
# Isla del Sol north: access volatile since 2017 (RF §2.7, RF2 §0.3, §3.1): a plan going
# there should say "confirm locally".
VOLATILE_ACCESS = {
    "isla-del-sol-challapampa": "Isla del Sol north (RF §2.7; RF2 §0.3, §3.1)",
}
# Words in a step title that name the place (a walk "Yumani – Challapampa").
VOLATILE_WORDS = {"isla-del-sol-challapampa": ("challapampa", "chincana", "chinkana")}


def place(slug: str | None) -> Place | None:
    return PLACES.get(slug or "")


def utc_offset_h(slug: str | None) -> int | None:
    known = place(slug)
    return UTC_OFFSET_H[known.country] if known else None


def crow_km(a: Place, b: Place) -> float:
    """Great-circle distance in km."""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# --- Border posts and the Tiquina strait -----------------------------------------------


@dataclass(frozen=True)
class Post:
    slug: str
    opens: str | None  # local "HH:MM"; None: open 24 h
    closes: str | None
    source: str


@dataclass(frozen=True)
class Crossing:
    key: str
    name: str
    posts: tuple[Post, Post]  # Peru side (or the Copacabana side at Tiquina) first
    source: str

    def post(self, slug: str) -> Post | None:
        return next((p for p in self.posts if p.slug == slug), None)


CROSSINGS: dict[str, Crossing] = {
    "kasani": Crossing(
        "kasani",
        "Kasani",
        (
            Post("kasani-pe", "07:00", "20:00", "RF §0.2, §3.1; RF2 §3.1 [R01]"),
            # No source gives the Bolivian side's normal hours; the briefs' working
            # assumption mirrors Peru's window: 08:00–21:00 BOT [UNVERIFIED inference].
            Post("kasani-bo", "08:00", "21:00", "RF §0.2, §3.1 [UNVERIFIED]"),
        ),
        "RF §0.2, §3.1",
    ),
    "cebaf": Crossing(
        "cebaf",
        "CEBAF Desaguadero",
        (
            Post("cebaf-desaguadero", "08:00", "20:00", "RF §0.2, §3.1 [R01]"),
            # Juxtaposed single control in the same building (RF §3.1, §3.2): the
            # Bolivian desk keeps the same absolute window, 09:00–21:00 BOT.
            Post("desaguadero-bo", "09:00", "21:00", "RF §3.1, §3.2 (juxtaposed)"),
        ),
        "RF §0.2, §3.1, §3.2",
    ),
    "desaguadero": Crossing(
        "desaguadero",
        "Desaguadero (old bridge)",
        (
            # PCF Desaguadero: 24 h (2026), probably the old bridge [UNVERIFIED].
            Post("desaguadero-pe", None, None, "RF §0.2, §3.1; RF2 §3.1"),
            Post("desaguadero-bo", None, None, "RF §3.1 (n/f; taken as 24 h)"),
        ),
        "RF §0.2, §3.1",
    ),
    "tiquina": Crossing(
        "tiquina",
        "Strait of Tiquina",
        (
            # Launch crews work 05:00–21:00 (2012); no bridge, no night crossing.
            Post("san-pedro-de-tiquina", "05:00", "21:00", "RF §0.3, §2.4"),
            Post("san-pablo-de-tiquina", "05:00", "21:00", "RF §0.3, §2.4"),
        ),
        "RF §0.3, §2.4; RF2 §0.2, §3.2",
    ),
}


def crossing_of_posts(a: str | None, b: str | None) -> Crossing | None:
    """The crossing whose two posts are ``a`` and ``b`` (either order)."""
    for crossing in CROSSINGS.values():
        slugs = {p.slug for p in crossing.posts}
        if {a, b} == slugs:
            return crossing
    return None


# Tiquina by road without a written crossing: which side of the strait a place is on and
# how long from the place to the strait at the least (RF §2.4: "~40 min from
# Copacabana and about 2 h from La Paz").
TIQUINA_WEST = {
    "copacabana": 35,
    "kasani-bo": 50,
    "isla-del-sol-yumani": 95,
    "isla-del-sol-challapampa": 155,
    "isla-de-la-luna": 125,
    "san-pedro-de-tiquina": 0,
}
TIQUINA_EAST = {
    "la-paz": 105,
    "el-alto": 90,
    "el-alto-airport": 90,
    "tiwanaku": 90,
    "desaguadero-bo": 120,
    "san-pablo-de-tiquina": 0,
}


# --- Ride minimum times ----------------------------------------------------------------

ANY = None  # a leg's minimum for any mode


@dataclass(frozen=True)
class Leg:
    a: str
    b: str
    minutes: int
    mode: str | None = ANY
    source: str = ""
    oneway: bool = False


# fmt: off
LEGS: tuple[Leg, ...] = (
    # Cusco – Puno (RF §2.0–2.2). RF §2.1: 388–400 km over La Raya; "direct ~6 h" only
    # in a 2004 report [OLD]; budget travellers ~8 h; overnight 21:45 → 04:30–05:00
    # (6 h 45), Bolivia Hop 22:00 → 05:30: so at least 6.5 h.
    Leg("cusco", "puno", 390, ANY, "RF §2.1: ≥ 6.5 h (overnight 21:45 → 04:30–05:00; 6 h only in 2004 [OLD])"),
    Leg("cusco", "puno", 540, "tourist_bus", "RF §2.1: Ruta del Sol 9–11 h"),
    Leg("cusco", "puno", 600, "train", "RF §2.2: PeruRail Titicaca ~10–10.5 h"),
    Leg("cusco", "juliaca", 330, ANY, "Cusco–Puno 390 less Juliaca–Puno ~45 km [ESTIMATE]"),
    Leg("juliaca", "puno", 40, ANY, "RF §1 [g]: JUL ~50 km / ~1 h from Puno"),
    Leg("juliaca-airport", "puno", 45, ANY, "RF §1 [g]: ~50 km / ~1 h"),
    Leg("juliaca", "juliaca-airport", 10, ANY, "RF §1 coordinates, ~4 km [ESTIMATE]"),
    Leg("cusco", "cusco-airport", 10, ANY, "RF §1 coordinates, ~3 km [ESTIMATE]"),
    # Cusco day trips (RF2 §2.1) and the Ruta del Sol stops (RF §2.1, RF2 §1.3).
    Leg("cusco", "pisac", 30, ANY, "RF2 §2.1 [T01]: taxi 30–40, combi 40–45"),
    Leg("pisac", "pisac-ruins", 10, ANY, "RF2 §2.1 [T01][T03]: taxi 15–20 [ESTIMATE]; walk down < 1 h"),
    Leg("cusco", "chinchero", 35, ANY, "RF2 §2.1: taxi 35–45 [ESTIMATE]"),
    Leg("pisac", "chinchero", 60, ANY, "RF2 §2.1 [T03]: > 2 h by two buses; by car [ESTIMATE]"),
    Leg("cusco", "andahuaylillas", 40, ANY, "RF §1 [oo]: under 1 h, 39–45 km"),
    Leg("andahuaylillas", "raqchi", 75, ANY, "RF2 §1.3 [S13]: ~1.5 h beyond Andahuaylillas"),
    Leg("cusco", "raqchi", 120, ANY, "RF2 §2.1: private 120–150, bus 150–180 [ESTIMATE]; 110–125 km"),
    Leg("raqchi", "abra-la-raya", 45, ANY, "road km from RF §1 (La Raya 177 km from Cusco) [ESTIMATE]"),
    Leg("cusco", "abra-la-raya", 150, ANY, "RF §1 [qq]: 177 km by road [ESTIMATE]"),
    Leg("abra-la-raya", "pukara", 75, ANY, "RF §1: La Raya 212 km, Pukará ~108 km from Puno [ESTIMATE]"),
    Leg("pukara", "puno", 90, ANY, "RF §1 [ss][tt]: ~2 h by tourist bus, ~108 km"),
    Leg("pukara", "juliaca", 45, ANY, "road km [ESTIMATE]"),
    # Puno day trips and the lake (RF §2.6, RF2 §2.2).
    Leg("puno", "sillustani", 35, ANY, "RF2 §2.2 [T06][T07]: 35–45 min, 33 km"),
    Leg("puno", "chucuito", 30, ANY, "RF2 §2.2 [T13]: ~40; colectivo 30–40 [ESTIMATE]"),
    Leg("puno", "luquina-chico", 30, ANY, "RF §2.6: fast boat 30–45"),
    Leg("puno", "luquina-chico", 60, "bus", "RF2 §2.2: road via Platería 60–75 [ESTIMATE]"),
    Leg("puno", "uros", 20, ANY, "RF §2.6: 20–45 min by boat; RF2 §2.2 [T14] ~30"),
    Leg("puno", "taquile", 60, ANY, "RF §2.0: fast boat 1–1.5 h, slow 2.5–3 h"),
    Leg("uros", "taquile", 60, ANY, "RF §2.6: 1–2.5 h; RF2 §2.2 [T17] 60–90"),
    Leg("uros", "amantani", 120, ANY, "RF §2.6: Uros → Amantaní ~2–2.5 h"),
    Leg("puno", "amantani", 140, ANY, "RF §2.6: 3.5–4.5 h with the Uros stop; Puno–Uros ≥ 20 + Uros–Amantaní ≥ 120"),
    Leg("amantani", "taquile", 50, ANY, "RF2 §2.2 [T19]: ~60 (~1 h)"),
    Leg("puno", "llachon", 120, ANY, "RF §2.6: ~2 h by private vehicle, ~3 h by colectivo; RF2 §2.2 [T09][T10]"),
    Leg("capachica", "llachon", 30, ANY, "RF2 §2.2 [T09]: 30 min"),
    Leg("puno", "capachica", 90, ANY, "RF2 §2.2: ~120 in all, less Capachica → Llachón 30"),
    # Puno – border – Copacabana – La Paz (RF §2.3–2.5, RF2 §2.5).
    Leg("puno", "kasani-pe", 105, ANY, "RF2 §2.5 [T36]: exchange stop after ~1.5 h, border 15 min later"),
    Leg("puno", "yunguyo", 95, ANY, "RF2 §2.5 [T36]; Yunguyo 4–5 km before Kasani"),
    Leg("yunguyo", "kasani-pe", 5, ANY, "RF §1: ~4–5 km"),
    Leg("kasani-bo", "copacabana", 15, ANY, "RF §2.3: 8 km / ~15–30 min"),
    Leg("puno", "copacabana", 180, ANY, "RF §2.3, RF2 §2.5 [T36]: 07:00 PET → ~11:00 BOT (3 h) incl. ~1 h at Kasani"),
    Leg("puno", "desaguadero-pe", 110, ANY, "RF §2.5: ~2 h to Desaguadero"),
    Leg("puno", "cebaf-desaguadero", 110, ANY, "RF §2.5: ~2 h; the CEBAF is 2 km further (RF §3.2)"),
    Leg("desaguadero-pe", "desaguadero-bo", 5, ANY, "RF §2.5: walk across the bridge"),
    Leg("cebaf-desaguadero", "desaguadero-bo", 5, ANY, "RF §3.2: across Puente Nuevo"),
    Leg("desaguadero-bo", "la-paz", 120, ANY, "RF §2.5: minivans 2–3.5 h"),
    Leg("puno", "la-paz", 240, ANY, "RF §2.5: 'just under 5 h door to door' via Desaguadero (2015): ~2 h + crossing + ≥ 2 h"),
    Leg("tiwanaku", "desaguadero-bo", 35, ANY, "~40 km on the La Paz–Desaguadero road [ESTIMATE]"),
    Leg("copacabana", "san-pedro-de-tiquina", 35, ANY, "RF §2.4: ~40 min, 46 km"),
    Leg("san-pedro-de-tiquina", "san-pablo-de-tiquina", 5, ANY, "RF §0.3, §2.4: launch 5–15 min"),
    Leg("san-pablo-de-tiquina", "la-paz", 105, ANY, "RF §2.4: Tiquina ~2 h from La Paz"),
    Leg("copacabana", "la-paz", 210, ANY, "RF §2.4, RF2 §2.5 [T32]: 3.5–4 h incl. Tiquina (14:00 → 17:40)"),
    # Copacabana and the islands (RF §2.7, RF2 §2.3).
    Leg("copacabana", "isla-del-sol-yumani", 60, ANY, "RF2 §2.3: launch 60–90"),
    Leg("copacabana", "isla-del-sol-challapampa", 120, ANY, "RF2 §2.3: launch 120–150"),
    Leg("isla-del-sol-yumani", "isla-del-sol-challapampa", 30, ANY, "RF §1 [ww]: 30 min past Yumani by boat"),
    Leg("isla-del-sol-yumani", "isla-del-sol-challapampa", 120, "walk", "RF2 §2.3: on foot 120–210, ~7.7 km"),
    Leg("isla-del-sol-yumani", "isla-de-la-luna", 15, ANY, "RF2 §2.3: 15–45"),
    Leg("isla-del-sol-yumani", "pilko-kaina", 20, "walk", "RF2 §1.6 [S24]: Pilko Kaina ~30 min on foot from Yumani"),
    Leg("copacabana", "yampupata", 30, ANY, "RF2 §2.3 [T23]: minibus 40 min, taxi; on foot 240–300"),
    Leg("yampupata", "isla-del-sol-yumani", 20, ANY, "RF2 §2.3 [T23]: a 30-min boat (rowing or motor)"),
    Leg("copacabana", "isla-de-la-luna", 90, ANY, "RF §2.7: ~2 h by boat"),
    # La Paz day trips and links (RF §2.8, RF2 §2.4).
    Leg("la-paz", "tiwanaku", 80, ANY, "RF §2.8, RF2 §2.4 [T25]: ~90 min, 70–72 km"),
    Leg("la-paz", "el-alto", 10, ANY, "RF2 §2.4 [T29]: Red Line ~10 min"),
    Leg("la-paz", "el-alto-airport", 25, ANY, "RF2 §2.4: La Paz–El Alto 30–60 by road [ESTIMATE]"),
    Leg("el-alto", "el-alto-airport", 10, ANY, "RF §1 coordinates [ESTIMATE]"),
    Leg("la-paz", "valle-de-la-luna", 30, ANY, "RF2 §2.4 [T27]: 30–60"),
    Leg("la-paz", "chacaltaya", 90, ANY, "RF2 §2.4 [S33]: 90–120"),
    Leg("el-alto", "chacaltaya", 60, ANY, "RF2 §2.4 [S33]: 25 km, ~1 h"),
)
# fmt: on

# A pair with no leg above is judged by a physical bound only: the crow-flight distance
# at these speeds (km/h) cannot be beaten on these roads, lakes and paths.
CROW_KMH = {
    None: 80.0,
    "boat": 35.0,
    "ferry": 35.0,
    "walk": 6.0,
    "cable_car": 25.0,
    "flight": 850.0,
}


def _legs_by_pair() -> dict[tuple[str, str], dict[str | None, Leg]]:
    table: dict[tuple[str, str], dict[str | None, Leg]] = {}
    for leg in LEGS:
        pairs = [(leg.a, leg.b)] if leg.oneway else [(leg.a, leg.b), (leg.b, leg.a)]
        for pair in pairs:
            table.setdefault(pair, {})[leg.mode] = leg
    return table


LEGS_BY_PAIR = _legs_by_pair()


@dataclass(frozen=True)
class Minimum:
    minutes: int
    source: str
    known: bool  # False: only the crow-flight bound


def ride_minimum(a: str, b: str, mode: str | None = None) -> Minimum | None:
    """The realistic minimum minutes from ``a`` to ``b`` (``mode`` when it has its own
    leg, else any mode); the crow-flight bound for a pair without a leg; None when a
    place is unknown."""
    if a == b:
        return Minimum(0, "same place", True)
    by_mode = LEGS_BY_PAIR.get((a, b))
    if by_mode:
        leg = by_mode.get(mode) or by_mode.get(ANY)
        if leg is None:  # only mode-specific legs: the fastest of them bounds any mode
            leg = min(by_mode.values(), key=lambda item: item.minutes)
        return Minimum(leg.minutes, leg.source, True)
    pa, pb = place(a), place(b)
    if pa is None or pb is None:
        return None
    speed = CROW_KMH.get(mode, CROW_KMH[None])
    minutes = int(crow_km(pa, pb) / speed * 60)
    return Minimum(
        minutes, f"crow-flight {crow_km(pa, pb):.0f} km at {speed:g} km/h", False
    )


# --- Departures: is there a later option for a relaxed traveller? ----------------------


@dataclass(frozen=True)
class LaterOption:
    exists: bool
    source: str


# (from, to, mode or None) → whether the same trip leaves at 08:00 or later too.
LATER_OPTIONS: dict[tuple[str, str, str | None], LaterOption] = {
    ("cusco", "puno", None): LaterOption(True, "RF §2.0: day services"),
    ("puno", "cusco", None): LaterOption(True, "RF §2.0: day services"),
    ("cusco", "puno", "train"): LaterOption(False, "RF §2.2: one train, 07:10"),
    ("puno", "cusco", "train"): LaterOption(False, "RF §2.2: one train, 07:30"),
    ("cusco", "puno", "tourist_bus"): LaterOption(False, "RF §2.1: dep 06:30–07:30"),
    ("puno", "cusco", "tourist_bus"): LaterOption(False, "RF §2.1: dep 06:30–07:30"),
    ("puno", "copacabana", None): LaterOption(True, "RF §2.3: 14:30 (2013), ~14:00"),
    ("copacabana", "puno", None): LaterOption(True, "RF2 §2.5 [T34]: afternoon bus"),
    ("copacabana", "la-paz", None): LaterOption(True, "RF §2.4: 13:30, 18:00–18:30"),
    ("la-paz", "copacabana", None): LaterOption(True, "RF §2.4: public buses hourly"),
    ("copacabana", "isla-del-sol-yumani", None): LaterOption(True, "RF2 §2.3: 13:30"),
    ("isla-del-sol-yumani", "copacabana", None): LaterOption(
        True, "RF2 §2.3: 10:30, 15:30"
    ),
    ("puno", "uros", None): LaterOption(True, "RF2 §2.2: continuous 06:00–16:30"),
    ("uros", "puno", None): LaterOption(True, "RF2 §2.2: continuous 06:00–16:30"),
    # One collective boat a day, "07:30" in one report and "~08:00 when full" in
    # another: the same boat, not a later one (RF2 §2.2 [T16]: 06:45–08:00).
    ("puno", "taquile", None): LaterOption(
        False, "RF §2.6: one collective boat, 07:30 (~08:00 when full)"
    ),
    ("puno", "amantani", None): LaterOption(True, "RF2 §2.2: 08:00–08:30"),
    ("amantani", "taquile", None): LaterOption(True, "RF2 §2.2: ~08:00–09:00"),
    ("puno", "la-paz", None): LaterOption(True, "RF §2.5: minibuses leave frequently"),
    ("la-paz", "puno", None): LaterOption(True, "RF §2.5: minivans from Cementerio"),
    ("la-paz", "tiwanaku", None): LaterOption(True, "RF2 §2.4: every ~30 min"),
    ("tiwanaku", "la-paz", None): LaterOption(True, "RF2 §2.4: every ~30 min"),
}


def later_option(a: str, b: str, mode: str | None) -> LaterOption | None:
    return LATER_OPTIONS.get((a, b, mode)) or LATER_OPTIONS.get((a, b, None))


# --- Round-trip tickets ----------------------------------------------------------------

# Legs sold inside an earlier ride's ticket (so shown at 0.00), keyed by the priced
# outbound (from, to) they follow. Besides these, any ride back to a place a priced ride
# left from is the return half of a round trip.
PACKAGE_LEGS: dict[tuple[str, str], frozenset[tuple[str, str]]] = {
    # RF §2.6: Amantaní co-op boat S/30 return, "usually Amantaní → Taquile → Puno";
    # RF2 §2.2 [T19]: Amantaní → Taquile "usually part of the 2D/1N package".
    ("puno", "amantani"): frozenset({("amantani", "taquile"), ("taquile", "puno")}),
    # RF §2.6: Puno → Uros → Taquile collective boats with the Uros stop.
    ("puno", "uros"): frozenset({("uros", "taquile"), ("uros", "amantani")}),
}


# --- Trip lengths ----------------------------------------------------------------------

# The fewest days an overland trip between two hubs takes (one night per stage that
# needs it): Cusco → Puno is a day's ride (≥ 6.5 h), Puno → Copacabana → La Paz fits in
# a day (07:00 bus, 13:30 bus: RF §2.3, §2.4), Puno → La Paz via Desaguadero < 5 h.
_MIN_DAYS = {
    ("cusco", "puno"): 1,
    ("cusco", "copacabana"): 2,
    ("cusco", "la-paz"): 2,
    ("puno", "copacabana"): 1,
    ("puno", "la-paz"): 1,
    ("copacabana", "la-paz"): 1,
}
# After flying in, two nights at the arrival city's altitude before sleeping higher
# (RF §5: WMS / CDC). A trip that sleeps at Puno on the way (every Cusco ↔ La Paz or
# Cusco ↔ Copacabana trip) needs them.
FLIGHT_EXTRA_NIGHTS = 2


def min_days(origin: str, destination: str, arrival: str | None) -> int | None:
    base = _MIN_DAYS.get((origin, destination)) or _MIN_DAYS.get((destination, origin))
    if base is None:
        return None
    if arrival == "flight" and base >= 2:
        base += FLIGHT_EXTRA_NIGHTS
    return base


# --- Altitude --------------------------------------------------------------------------

# RF §5 (WMS 2010/2019, CDC): above 3,000 m do not raise the sleeping altitude more than
# 500 m a night; after flying in, two nights before sleeping higher; no heavy exercise
# at first.
ALTITUDE_FLOOR_M = 3000
MAX_RISE_M = 500
NIGHTS_BEFORE_HIGHER_AFTER_FLIGHT = 2


# --- Paces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaceRule:
    opens: str
    closes: str
    cap_minutes: int


PACES = {
    "relaxed": PaceRule("08:00", "20:30", 5 * 60),
    "normal": PaceRule("07:00", "21:30", 8 * 60),
    "packed": PaceRule("05:30", "22:30", 11 * 60),
}
RELAXED_EARLIEST_BOARDING = "08:00"
WAKING = ("07:00", "22:00")  # waking hours for "time in the destination"
TRAVEL_DAY_MINUTES = 2 * 60  # riding in waking hours that makes a day a travel day
MIN_DESTINATION_MINUTES = 4 * 60


# --- Sights (RF2 §1) -------------------------------------------------------------------

ALL_DAYS = frozenset(range(7))  # Monday = 0
MON_SAT = frozenset(range(6))
MON_FRI = frozenset(range(5))


@dataclass(frozen=True)
class Sight:
    key: str  # RF2 §1 id
    place: str
    keywords: tuple[str, ...]  # matched against a sight step's slug and title
    hours: tuple[tuple[frozenset[int], str, str], ...] = ()  # () = hours n/f
    strenuous: bool = False
    source: str = ""


ALWAYS = ((ALL_DAYS, "00:00", "24:00"),)

SIGHTS: tuple[Sight, ...] = (
    Sight(
        "cus_plaza",
        "cusco",
        ("cathedral", "plaza-de-armas-cusco", "cusco-cathedral"),
        ((ALL_DAYS, "10:00", "18:00"),),
        source="RF2 §1.1 [S05] cathedral daily 10:00–18:00 [OLD]",
    ),
    Sight(
        "cus_qorikancha",
        "cusco",
        ("qorikancha", "coricancha"),
        ((MON_SAT, "08:00", "17:00"), (frozenset({6}), "14:00", "16:00")),
        source="RF2 §1.1 [S06] site museum",
    ),
    Sight(
        "cus_sacsay",
        "cusco",
        ("sacsay", "saksay"),
        ((ALL_DAYS, "07:00", "18:00"),),
        source="RF2 §1.1 [S04]",
    ),
    Sight(
        "cus_sanpedro",
        "cusco",
        ("san-pedro-market", "mercado-san-pedro", "san pedro market"),
        ((ALL_DAYS, "06:30", "19:00"),),
        source="RF2 §1.1 [S08]",
    ),
    Sight("cus_sanblas", "cusco", ("san-blas", "san blas"), ALWAYS, source="RF2 §1.1"),
    Sight(
        "sv_pisac_ruins",
        "pisac",
        ("pisac-ruins", "pisac-archaeological", "pisac ruins", "intihuatana"),
        ((ALL_DAYS, "07:00", "18:00"),),
        strenuous=True,
        source="RF2 §1.2 [S09]; effort moderate to strenuous",
    ),
    Sight(
        "sv_pisac_market", "pisac", ("pisac-market", "pisac market"), source="RF2 §1.2"
    ),
    Sight("sv_chinchero", "chinchero", ("chinchero",), source="RF2 §1.2"),
    Sight(
        "rd_andahuaylillas", "andahuaylillas", ("andahuaylillas",), source="RF2 §1.3"
    ),
    Sight("rd_raqchi", "raqchi", ("raqchi", "wiracocha"), source="RF2 §1.3"),
    Sight(
        "rd_laraya", "abra-la-raya", ("la-raya", "la raya"), ALWAYS, source="RF2 §1.3"
    ),
    Sight("rd_pukara", "pukara", ("pukara", "pucara"), source="RF2 §1.3"),
    Sight(
        "pu_sillustani",
        "sillustani",
        ("sillustani",),
        ((ALL_DAYS, "08:00", "17:00"),),
        source="RF2 §1.4 [S16] [OLD]",
    ),
    Sight(
        "pu_uros",
        "uros",
        ("uros",),
        ((ALL_DAYS, "06:00", "16:30"),),
        source="RF2 §1.4: boats ~06:00–16:30",
    ),
    Sight("pu_taquile", "taquile", ("taquile",), source="RF2 §1.4"),
    Sight(
        "pu_amantani",
        "amantani",
        ("amantani", "pachatata", "pachamama"),
        strenuous=True,
        source="RF2 §1.4: sunset hike to ~4,100 m, moderate to strenuous",
    ),
    Sight(
        "pu_cathedral",
        "puno",
        ("puno-cathedral", "puno cathedral"),
        (
            (MON_FRI | {6}, "07:00", "12:00"),
            (MON_FRI | {6}, "15:00", "18:00"),
            (frozenset({5}), "07:00", "12:00"),
            (frozenset({5}), "15:00", "19:00"),
        ),
        source="RF2 §1.4 [S19] [OLD]",
    ),
    Sight("pu_yavari", "puno", ("yavari",), source="RF2 §1.4 [S21]"),
    Sight(
        "pu_dreyer",
        "puno",
        ("dreyer",),
        ((MON_FRI, "09:30", "19:30"),),
        source="RF2 §1.4 [S20] [OLD]",
    ),
    Sight("pu_chucuito", "chucuito", ("chucuito", "inca-uyo"), source="RF2 §1.4"),
    Sight("co_basilica", "copacabana", ("basilica", "basílica"), source="RF2 §1.5"),
    Sight(
        "co_calvario",
        "copacabana",
        ("calvario",),
        ALWAYS,
        strenuous=True,
        source="RF2 §1.5: ~220 m climb at ~4,000 m",
    ),
    Sight("co_horca", "copacabana", ("horca",), source="RF2 §1.5"),
    Sight(
        "is_yumani",
        "isla-del-sol-yumani",
        ("yumani",),
        strenuous=True,
        source="RF2 §1.6: ~200 m gain in < 1 km",
    ),
    Sight(
        "is_escalera",
        "isla-del-sol-yumani",
        ("escalera", "inca-stairs", "inca stairs", "fuente-del-inca"),
        ALWAYS,
        strenuous=True,
        source="RF2 §1.6",
    ),
    Sight(
        "is_pilkokaina",
        "isla-del-sol-yumani",
        ("pilko", "pilco"),
        source="RF2 §1.6",
    ),
    Sight(
        "is_challapampa",
        "isla-del-sol-challapampa",
        ("challapampa", "museo-del-oro"),
        source="RF2 §1.6 (access volatile)",
    ),
    Sight(
        "is_chincana",
        "isla-del-sol-challapampa",
        ("chincana", "chinkana"),
        ((ALL_DAYS, "08:00", "18:00"),),
        source="RF2 §1.6 [S24] [OLD] (access volatile)",
    ),
    Sight(
        "is_luna",
        "isla-de-la-luna",
        ("luna-koati", "koati", "inak-uyu"),
        source="RF2 §1.6",
    ),
    Sight(
        "lp_teleferico",
        "la-paz",
        ("teleferico", "teleférico", "cable-car", "cable car"),
        ((ALL_DAYS, "06:00", "23:00"),),
        source="RF2 §1.7 [S25] (Dec 2025 hours; normal n/f)",
    ),
    Sight("lp_brujas", "la-paz", ("brujas", "witches"), source="RF2 §1.7"),
    Sight(
        "lp_sanfrancisco",
        "la-paz",
        ("san-francisco", "san francisco"),
        source="RF2 §1.7",
    ),
    Sight("lp_jaen", "la-paz", ("jaen", "jaén"), source="RF2 §1.7"),
    Sight(
        "lp_valleluna",
        "valle-de-la-luna",
        ("valle-de-la-luna", "valley of the moon", "moon valley"),
        ((ALL_DAYS, "09:00", "17:00"),),
        source="RF2 §1.7 [S26] [OLD]",
    ),
    Sight("lp_killikilli", "la-paz", ("killi",), source="RF2 §1.7"),
    Sight(
        "ea_16julio",
        "el-alto",
        ("16-de-julio", "16 de julio"),
        ((frozenset({3, 6}), "06:00", "19:00"),),
        source="RF2 §1.7 [S31]: Thursdays and Sundays (hours [ESTIMATE])",
    ),
    Sight(
        "ea_cholitas",
        "el-alto",
        ("cholita",),
        ((frozenset({3, 6}), "16:00", "20:00"),),
        source="RF2 §1.7 [S30]: Sundays (Thursdays too in 2016), ~17:00–19:30",
    ),
    Sight("ea_cholets", "el-alto", ("cholet",), source="RF2 §1.7 [S36]"),
    Sight(
        "tiwanaku",
        "tiwanaku",
        ("tiwanaku", "tiahuanaco", "kalasasaya", "puma-punku"),
        ((ALL_DAYS, "08:00", "17:00"),),
        source="RF §2.8 08:00–17:00 vs RF2 §1.8 [S32] 09:00–16:00 [CONFLICT]: the wider",
    ),
    Sight(
        "chacaltaya",
        "chacaltaya",
        ("chacaltaya",),
        strenuous=True,
        source="RF2 §1.8: strenuous (altitude); not in the first days",
    ),
    Sight(
        "huayna_base",
        "el-alto",
        ("huayna",),
        strenuous=True,
        source="RF2 §1.8 [S34]",
    ),
)

# RF2 §1 "Interest tags" of each sight (the words before any parenthesis): a free
# day next to a sight is idle only for a traveller who did not rate all of its
# tags 0.
SIGHT_TAGS: dict[str, tuple[str, ...]] = {
    "cus_plaza": ("culture", "festivals"),
    "cus_qorikancha": ("culture", "archaeology"),
    "cus_sacsay": ("archaeology", "viewpoints", "festivals"),
    "cus_sanpedro": ("food", "markets"),
    "cus_sanblas": ("culture", "textiles", "viewpoints"),
    "sv_pisac_ruins": ("archaeology", "hiking", "viewpoints"),
    "sv_pisac_market": ("markets", "textiles", "food"),
    "sv_chinchero": ("culture", "archaeology", "textiles", "markets"),
    "rd_andahuaylillas": ("culture",),
    "rd_raqchi": ("archaeology", "culture", "festivals"),
    "rd_laraya": ("viewpoints", "nature"),
    "rd_pukara": ("archaeology", "culture"),
    "pu_sillustani": ("archaeology", "lake", "viewpoints"),
    "pu_uros": ("culture", "lake"),
    "pu_taquile": ("culture", "textiles", "hiking", "lake", "food"),
    "pu_amantani": ("culture", "hiking", "lake", "viewpoints"),
    "pu_cathedral": ("culture", "festivals"),
    "pu_yavari": ("culture", "lake"),
    "pu_dreyer": ("culture", "archaeology"),
    "pu_chucuito": ("archaeology", "culture", "lake"),
    "co_basilica": ("culture", "festivals"),
    "co_calvario": ("viewpoints", "hiking", "culture"),
    "co_horca": ("archaeology", "viewpoints", "festivals"),
    "is_yumani": ("culture", "hiking", "lake", "viewpoints"),
    "is_escalera": ("archaeology", "hiking"),
    "is_pilkokaina": ("archaeology", "lake", "viewpoints"),
    "is_challapampa": ("culture", "archaeology", "lake"),
    "is_chincana": ("archaeology", "hiking", "viewpoints"),
    "is_luna": ("archaeology", "lake", "festivals"),
    "lp_teleferico": ("viewpoints", "culture"),
    "lp_brujas": ("markets", "culture"),
    "lp_sanfrancisco": ("culture",),
    "lp_jaen": ("culture",),
    "lp_valleluna": ("nature", "hiking", "viewpoints"),
    "lp_killikilli": ("viewpoints",),
    "ea_16julio": ("markets", "food", "culture"),
    "ea_cholitas": ("culture",),
    "ea_cholets": ("culture",),
    "huayna_base": ("hiking", "nature"),
    "tiwanaku": ("archaeology", "culture"),
    "chacaltaya": ("hiking", "nature", "viewpoints"),
}

# RF2 §1 "Fee" for one foreign adult, the lowest figure given, in minor units: a
# free day next to a sight is idle only when the traveller's budget has room for
# it. A fee the facts do not give ("n/f") counts as 0 (it could be afforded).
SIGHT_FEES: dict[str, tuple[int, str]] = {
    "cus_plaza": (2500, "PEN"),  # the plaza is free; the cathedral S/25 [OLD]
    "cus_qorikancha": (1500, "PEN"),
    "cus_sacsay": (7000, "PEN"),  # BTC partial circuit S/70 [OLD]
    "cus_sanpedro": (0, "PEN"),
    "cus_sanblas": (0, "PEN"),  # the quarter; the church is in the Boleto Religioso
    "sv_pisac_ruins": (7000, "PEN"),  # BTC partial circuit [OLD]
    "sv_pisac_market": (0, "PEN"),
    "sv_chinchero": (0, "PEN"),  # the market is free; the site needs the BTC
    "rd_andahuaylillas": (1500, "PEN"),
    "rd_raqchi": (600, "PEN"),  # S/20 (2018); S/6 [OLD]
    "rd_laraya": (0, "PEN"),
    "pu_sillustani": (1500, "PEN"),
    "pu_uros": (1500, "PEN"),  # entry S/10 + lake tax S/5 (2023)
    "pu_taquile": (500, "PEN"),
    "pu_amantani": (500, "PEN"),
    "pu_cathedral": (0, "PEN"),
    "co_basilica": (0, "BOB"),
    "co_calvario": (0, "BOB"),
    "co_horca": (1000, "BOB"),
    "is_yumani": (500, "BOB"),
    "is_escalera": (500, "BOB"),
    "is_challapampa": (1000, "BOB"),
    "is_chincana": (1000, "BOB"),
    "lp_teleferico": (300, "BOB"),
    "lp_brujas": (0, "BOB"),
    "lp_sanfrancisco": (1500, "BOB"),  # Bs 20 foreigners (2014); Bs 15 (2011)
    "lp_valleluna": (1500, "BOB"),
    "lp_killikilli": (0, "BOB"),
    "ea_16julio": (0, "BOB"),
    "ea_cholitas": (8000, "BOB"),
    "tiwanaku": (10000, "BOB"),
}


# Activity titles that mean hard exercise at altitude (RF2 "Conventions": strenuous is a
# steep climb of 150 m+ at ≥ 3,800 m or more than 3 h of walking; RF §5: no heavy
# exercise for the first 48 h).
STRENUOUS_WORDS = (
    "trek",
    "hike",
    "hiking",
    "climb",
    "summit",
    "ascent",
    "kayak",
    "mountain bike",
    "calvario",
    "chacaltaya",
    "huayna",
    "pachatata",
    "caminata",
    "ascenso",
)


def sight_match(slug: str, title: str, where: str | None = None) -> Sight | None:
    """The sight a step's slug or title names, preferring those at ``where``: its
    RF2 §1 id as a slug (``cus_sanpedro`` or ``cus-sanpedro``) first, else a
    keyword in the slug or title."""
    by_id = slug.strip().lower().replace("-", "_")
    for sight in SIGHTS:
        if sight.key == by_id:
            return sight
    text = f"{slug} {title}".lower()
    found = [s for s in SIGHTS if any(word in text for word in s.keywords)]
    here = [s for s in found if s.place == where]
    return (here or found or [None])[0]


def places_with_sights() -> frozenset[str]:
    return frozenset(s.place for s in SIGHTS)


def sight_open_on(sight: Sight, weekday: int) -> bool | None:
    """Open at some time on this weekday; None when the hours are unknown."""
    if not sight.hours:
        return None
    return any(weekday in days for days, _o, _c in sight.hours)
