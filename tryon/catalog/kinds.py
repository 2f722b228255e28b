"""The kind registry: one :class:`KindSpec` per product kind, the single place that says what a kind is.

Everything else is derived from :data:`REGISTRY`: the catalog's validation (anchors, sizes,
assets, parameters, finishes), the pipeline's drawing order and the perception stages a look
switches on, the page's product groups and the kinds' names in each language (served by
``GET /api/catalog``). The renderers register themselves by kind beside their code
(:func:`tryon.render.registry.renders`); a test checks that every kind here has one. The words
viewers call a kind by in each language (``synonyms``, beside its ``names``) are what comment
analysis (:mod:`tryon.analytics.comments`) recognises.

To add a kind: a row in :data:`REGISTRY` (and a family or group below if it is a new one), a
renderer module with ``@renders("kind")``, its art module and its products.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LOCALES = ("en", "fr", "zh")
"""Languages the page speaks; every family, group and kind is named in each."""

STAGES = ("faces", "poses", "hands", "segmentation")
"""Perception stages (:mod:`tryon.perception`); faces run for every look."""

SLOTS = (
    *("lips", "lip-gloss", "cheeks", "eyeshadow", "eyeliner", "brows", "complexion"),
    *("eyes-wear", "head", "ear-left", "ear-right", "neck", "nails"),
    *("upper", "lower", "outer", "watch", "bracelet"),
)
"""Where products are worn. Each makeup kind has its own (a lip gloss layers over a lipstick);
glasses and sunglasses share the eyewear; a dress fills the upper and lower body (it replaces a
top, a top replaces it); a jacket is the outer layer, worn over a top or a dress."""


@dataclass(frozen=True)
class ParamSpec:
    """One product-level parameter: ``"bool"``, ``"number"`` (within ``[low, high]``) or
    ``"choice"`` (one of ``choices``), and its default."""

    type: str
    default: float | bool | str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Named:
    """A family or a product group: its id and its name in each of :data:`LOCALES`."""

    id: str
    names: Mapping[str, str]


FAMILIES: tuple[Named, ...] = (
    Named("makeup", {"en": "Makeup", "fr": "Maquillage", "zh": "彩妆"}),
    Named("eyewear", {"en": "Eyewear", "fr": "Lunetterie", "zh": "眼镜"}),
    Named("jewellery", {"en": "Jewellery", "fr": "Bijoux", "zh": "珠宝"}),
    Named("headwear", {"en": "Headwear", "fr": "Chapeaux", "zh": "帽子"}),
    Named("hands", {"en": "Nails", "fr": "Ongles", "zh": "美甲"}),
    Named("garment", {"en": "Clothing", "fr": "Vêtements", "zh": "服装"}),
    Named("wrist", {"en": "Wristwear", "fr": "Au poignet", "zh": "腕饰"}),
)
"""What a kind is worn as: the renderers' families."""

GROUPS: tuple[Named, ...] = (
    Named("lips", {"en": "Lips", "fr": "Lèvres", "zh": "唇部"}),
    Named("eyes", {"en": "Eyes", "fr": "Yeux", "zh": "眼部"}),
    Named("face", {"en": "Face", "fr": "Teint", "zh": "面部"}),
    Named("nails", {"en": "Nails", "fr": "Ongles", "zh": "美甲"}),
    Named("accessories", {"en": "Accessories", "fr": "Accessoires", "zh": "配饰"}),
    Named("clothes", {"en": "Clothing", "fr": "Vêtements", "zh": "服装"}),
    Named("wrist", {"en": "Watches & bracelets", "fr": "Montres & bracelets", "zh": "手表与手链"}),
)
"""The page's filter chips, in the order a shopper browses."""


@dataclass(frozen=True)
class KindSpec:
    """Everything tryon knows about one product kind."""

    name: str
    family: str
    group: str
    names: Mapping[str, str]
    """The kind's name in each of :data:`LOCALES`."""
    layer: int
    """Drawing order, back to front (makeup kinds: the order colours go on the skin)."""
    renderer: str
    """The module whose ``@renders`` draws the kind (imported when renderers are loaded)."""
    stages: tuple[str, ...] = ()
    """Perception stages the renderer needs besides faces."""
    anchors: tuple[str, ...] = ()
    """Anchors the ``front`` asset (or the first one) must have; non-empty: an asset is required."""
    assets: tuple[str, ...] = ()
    """Assets the renderer needs by name."""
    sizes_mm: tuple[str, ...] = ()
    """Real sizes the main asset must give (``width``: the whole image's width in mm)."""
    size_chart: bool = False
    """Products carry a size chart (``sizes``)."""
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    """Product-level ``params`` the kind takes."""
    finishes: frozenset[str] = frozenset()
    """Finishes allowed; non-empty: every variant needs a colour and a finish."""
    lens: bool = False
    """Variants may give a lens colour and opacity."""
    per_person: bool = False
    """One person may wear their own product of this kind (``TryOnPipeline.dress_person``)."""
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Other words for the kind per locale, as viewers write them (singular; comment analysis
    folds plurals, case and accents): "lippie", "gloss", "唇膏"."""
    slots: tuple[str, ...] = ()
    """Where on the body the kind is worn (:data:`SLOTS`): two products whose kinds share a slot
    are not worn together, the later one replaces the earlier (:func:`tryon.look.resolve_look`)."""

    def __post_init__(self) -> None:
        problems = [
            f"family {self.family!r}" * (self.family not in {f.id for f in FAMILIES}),
            f"group {self.group!r}" * (self.group not in {g.id for g in GROUPS}),
            f"stages {self.stages}" * (not set(self.stages) <= set(STAGES) - {"faces"}),
            f"names for {sorted(set(LOCALES) - set(self.names))}" * (not set(LOCALES) <= set(self.names)),
            f"synonym locales {sorted(set(self.synonyms) - set(LOCALES))}"
            * (not set(self.synonyms) <= set(LOCALES)),
            "empty synonyms" * any(not w.strip() for ws in self.synonyms.values() for w in ws),
            f"slots {self.slots}" * (not self.slots or not set(self.slots) <= set(SLOTS)),
        ]
        if any(problems):
            raise ValueError(f"kind {self.name!r}: unknown or missing {'; '.join(p for p in problems if p)}")

    @property
    def makeup(self) -> bool:
        return self.family == "makeup"

    @property
    def takes_intensity(self) -> bool:
        """Whether a look item of this kind is drawn at an intensity (makeup); the others are
        always drawn opaque."""
        return "intensity" in self.params

    @property
    def needs(self) -> str:
        """What must be in view for the kind to be drawn: ``"hand"`` (nails, wristwear),
        ``"body"`` (garments, a necklace: the shoulders) or ``"face"`` (the page's hints)."""
        if "hands" in self.stages and "segmentation" not in self.stages:
            return "hand"
        return "body" if "poses" in self.stages else "face"


INTENSITY = ParamSpec("number", 1.0, 0.0, 1.0)
FIT = {"fit": ParamSpec("choice", "regular", choices=("slim", "regular", "loose"))}
GARMENT_ANCHORS = (
    "neck",
    "left_shoulder",
    "right_shoulder",
    "left_armpit",
    "right_armpit",
    "left_cuff",
    "right_cuff",
    "left_hem",
    "right_hem",
)
GARMENT_STAGES = ("poses", "segmentation", "hands")
LENS_ANCHORS = ("left_lens", "right_lens", "bridge")


def _words(en: str = "", fr: str = "", zh: str = "") -> dict[str, tuple[str, ...]]:
    """Synonyms per locale, each locale's written as one string separated by ``|``."""
    given = {"en": en, "fr": fr, "zh": zh}
    return {loc: tuple(w.strip() for w in text.split("|")) for loc, text in given.items() if text}


def _makeup(
    name: str,
    group: str,
    names: Mapping[str, str],
    layer: int,
    finishes: str,
    synonyms: Mapping[str, tuple[str, ...]],
    slot: str,
    **params: ParamSpec,
) -> KindSpec:
    return KindSpec(
        name,
        "makeup",
        group,
        names,
        layer,
        "tryon.render.makeup",
        params={"intensity": INTENSITY, **params},
        finishes=frozenset(finishes.split()),
        synonyms=synonyms,
        slots=(slot,),
    )


def _garment(
    name: str,
    names: Mapping[str, str],
    layer: int,
    synonyms: Mapping[str, tuple[str, ...]],
    slots: tuple[str, ...],
) -> KindSpec:
    return KindSpec(
        name,
        "garment",
        "clothes",
        names,
        layer,
        "tryon.render.garments",
        stages=GARMENT_STAGES,
        anchors=GARMENT_ANCHORS,
        assets=("front", "parts"),
        sizes_mm=("width",),
        size_chart=True,
        params=FIT,
        per_person=True,
        synonyms=synonyms,
        slots=slots,
    )


_ROWS: tuple[KindSpec, ...] = (
    # Makeup: layers 0-6 are the order colours go on the skin.
    _makeup(
        "lipstick",
        "lips",
        {"en": "Lipstick", "fr": "Rouge à lèvres", "zh": "口红"},
        5,
        "matte satin cream gloss shimmer metallic",
        _words("lippie|lip colour|lip color|lip stick", "rouge a levre|rouge à lèvre", "唇膏|唇膏笔"),
        "lips",
    ),
    _makeup(
        "lip_gloss",
        "lips",
        {"en": "Lip gloss", "fr": "Gloss", "zh": "唇彩"},
        6,
        "gloss shimmer",
        _words("gloss|lipgloss|lip glaze", "brillant à lèvres|gloss à lèvres", "唇釉|唇蜜|唇油"),
        "lip-gloss",
    ),
    _makeup(
        "blush",
        "face",
        {"en": "Blush", "fr": "Blush", "zh": "腮红"},
        1,
        "matte satin shimmer",
        _words("blusher|cheek colour|cheek color", "fard à joues", "胭脂"),
        "cheeks",
    ),
    _makeup(
        "eyeshadow",
        "eyes",
        {"en": "Eyeshadow", "fr": "Fard à paupières", "zh": "眼影"},
        3,
        "matte satin shimmer metallic",
        _words("eye shadow|shadow|eyeshadow palette", "ombre à paupières|fard|fard à paupière", "眼影盘"),
        "eyeshadow",
    ),
    _makeup(
        "eyeliner",
        "eyes",
        {"en": "Eyeliner", "fr": "Eye-liner", "zh": "眼线"},
        4,
        "matte gloss",
        _words("eye liner|liner", "eyeliner|eye liner|liner", "眼线笔|眼线液|眼线胶笔"),
        "eyeliner",
        wing=ParamSpec("bool", False),
        thickness=ParamSpec("number", 1.0, 0.3, 3.0),
    ),
    _makeup(
        "brow",
        "eyes",
        {"en": "Brow", "fr": "Sourcils", "zh": "眉笔"},
        2,
        "matte",
        _words(
            "brow pencil|eyebrow pencil|eyebrow|brows",
            "crayon à sourcils|sourcil|crayon sourcils",
            "眉毛|眉粉",
        ),
        "brows",
    ),
    _makeup(
        "foundation",
        "face",
        {"en": "Foundation", "fr": "Fond de teint", "zh": "粉底"},
        0,
        "matte satin natural",
        _words("liquid foundation", "fond de teint liquide|fdt", "粉底液|粉底霜"),
        "complexion",
    ),
    KindSpec(
        "glasses",
        "eyewear",
        "accessories",
        {"en": "Glasses", "fr": "Lunettes", "zh": "眼镜"},
        16,
        "tryon.render.glasses",
        anchors=LENS_ANCHORS,
        sizes_mm=("width",),
        lens=True,
        synonyms=_words(
            "eyeglasses|frames|specs|optical glasses", "lunettes de vue|monture", "镜框|近视眼镜|眼镜框"
        ),
        slots=("eyes-wear",),
    ),
    KindSpec(
        "sunglasses",
        "eyewear",
        "accessories",
        {"en": "Sunglasses", "fr": "Lunettes de soleil", "zh": "太阳镜"},
        16,
        "tryon.render.glasses",
        anchors=LENS_ANCHORS,
        sizes_mm=("width",),
        lens=True,
        synonyms=_words("sunnies|sun glasses", "lunette de soleil", "墨镜|太阳眼镜"),
        slots=("eyes-wear",),
    ),
    KindSpec(
        "earrings",
        "jewellery",
        "accessories",
        {"en": "Earrings", "fr": "Boucles d’oreilles", "zh": "耳环"},
        15,
        "tryon.render.earrings",
        stages=("segmentation",),
        anchors=("hook",),
        sizes_mm=("width",),
        synonyms=_words(
            "earring|studs|ear studs|drop earrings|hoops|hoop earrings",
            "boucle d'oreille|clou d'oreille|puce d'oreille|pendant d'oreille|créole",
            "耳钉|耳坠|耳饰|耳圈",
        ),
        slots=("ear-left", "ear-right"),
    ),
    KindSpec(
        "hat",
        "headwear",
        "accessories",
        {"en": "Hat", "fr": "Chapeau", "zh": "帽子"},
        17,
        "tryon.render.hats",
        anchors=("brim_left", "brim_right"),
        sizes_mm=("width",),
        params={"sit": ParamSpec("number", 0.4, 0.0, 1.0)},
        synonyms=_words("cap|headwear", "casquette", "帽"),
        slots=("head",),
    ),
    KindSpec(
        "necklace",
        "jewellery",
        "accessories",
        {"en": "Necklace", "fr": "Collier", "zh": "项链"},
        14,
        "tryon.render.necklaces",
        stages=("poses",),
        anchors=("left_end", "right_end"),
        sizes_mm=("width",),
        synonyms=_words("pendant|chain|choker", "pendentif|chaîne|chaine|ras de cou", "吊坠|颈链"),
        slots=("neck",),
    ),
    KindSpec(
        "nails",
        "hands",
        "nails",
        {"en": "Nail polish", "fr": "Vernis à ongles", "zh": "指甲油"},
        18,
        "tryon.render.nails",
        stages=("hands",),
        finishes=frozenset({"cream", "gloss", "shimmer", "glitter"}),
        synonyms=_words(
            "polish|nail varnish|nail lacquer|varnish|lacquer", "vernis|vernis à ongle", "甲油|美甲"
        ),
        slots=("nails",),
    ),
    _garment(
        "top",
        {"en": "Top", "fr": "Haut", "zh": "上衣"},
        11,
        _words(
            "tee|t-shirt|tshirt|shirt|sweater|jumper|pullover|knit|pyjama top|pyjamas|pajamas|blouse",
            "t-shirt|tee-shirt|tshirt|chemise|pull|pullover|tricot|marinière|pyjama|haut de pyjama|blouse",
            "T恤|衬衫|毛衣|睡衣|针织衫|卫衣",
        ),
        ("upper",),
    ),
    _garment(
        "dress",
        {"en": "Dress", "fr": "Robe", "zh": "连衣裙"},
        10,
        _words("frock", "", "裙子|裙"),
        ("upper", "lower"),
    ),
    _garment(
        "jacket",
        {"en": "Jacket", "fr": "Veste", "zh": "夹克"},
        12,
        _words("coat|outerwear", "blouson|manteau", "外套"),
        ("outer",),
    ),
    # Wrist: layer 13, over the garments (10-12: a watch is worn over a sleeve's cuff that ends
    # at the wrist) and under the nails (18: a hand held over the other wrist keeps its polish on
    # top). The anchors are the band's two ends where it closes round the wrist, as they lie in
    # the flat image (their distance is the worn circumference), and a watch's dial centre.
    KindSpec(
        "watch",
        "wrist",
        "wrist",
        {"en": "Watch", "fr": "Montre", "zh": "手表"},
        13,
        "tryon.render.wrist",
        stages=("hands", "poses"),
        anchors=("band_left", "band_right", "face_centre"),
        sizes_mm=("width",),
        synonyms=_words("wristwatch|timepiece", "montre bracelet", "腕表|表"),
        slots=("watch",),
    ),
    KindSpec(
        "bracelet",
        "wrist",
        "wrist",
        {"en": "Bracelet", "fr": "Bracelet", "zh": "手链"},
        13,
        "tryon.render.wrist",
        stages=("hands", "poses"),
        anchors=("band_left", "band_right"),
        sizes_mm=("width",),
        synonyms=_words("bangle|wristband", "jonc|gourmette", "手镯|手环"),
        slots=("bracelet",),
    ),
)

REGISTRY: Mapping[str, KindSpec] = MappingProxyType({spec.name: spec for spec in _ROWS})
"""Every product kind the catalog accepts, in the order the page lists them."""


def kind_spec(kind: str) -> KindSpec:
    """The registry's row for ``kind``; :class:`KeyError` naming the known kinds otherwise."""
    try:
        return REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown product kind {kind!r}; expected one of {', '.join(REGISTRY)}") from None


def kinds_of(family: str) -> tuple[str, ...]:
    """The kinds of one family, in registry order."""
    return tuple(k for k, spec in REGISTRY.items() if spec.family == family)


def catalog_groups() -> list[dict[str, object]]:
    """The page's product groups with their kinds and names (``GET /api/catalog``)."""
    return [
        {"id": g.id, "names": dict(g.names), "kinds": [k for k, s in REGISTRY.items() if s.group == g.id]}
        for g in GROUPS
        if any(s.group == g.id for s in REGISTRY.values())
    ]


def kind_names() -> dict[str, dict[str, str]]:
    """Each kind's name per locale (``GET /api/catalog``)."""
    return {k: dict(s.names) for k, s in REGISTRY.items()}


def kind_words() -> dict[str, dict[str, tuple[str, ...]]]:
    """Each kind's words per locale: its name first, then its synonyms (comment analysis)."""
    return {
        k: {loc: (s.names[loc], *s.synonyms.get(loc, ())) for loc in LOCALES} for k, s in REGISTRY.items()
    }


def catalog_slots() -> dict[str, list[str]]:
    """Each kind's slots (``GET /api/catalog``): kinds sharing a slot are not worn together."""
    return {k: list(s.slots) for k, s in REGISTRY.items()}


def kind_needs() -> dict[str, str]:
    """Each kind's :attr:`KindSpec.needs` (``GET /api/catalog``)."""
    return {k: s.needs for k, s in REGISTRY.items()}


def intensity_kinds() -> tuple[str, ...]:
    """The kinds drawn at an intensity (makeup); every other kind is drawn opaque."""
    return tuple(k for k, s in REGISTRY.items() if s.takes_intensity)
