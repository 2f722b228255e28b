"""Grammar words of each language the comment analysis speaks: facts about English, French and
Chinese, not about the catalog (whose words live in :mod:`tryon.catalog`).

Words are written without accents (compared with :attr:`tryon.analytics.text.Unit.bare`) unless
the accent is the point (``où``).
"""

from __future__ import annotations

import re


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- Language: common words and chat slang, for texts too short for the detector ----------------

EN_WORDS = _set(
    """the a an is are was it its this that these those i im you u ur your my me we they he she
    and or but for with to of in on so very too not no yes yep thanks thx ty hi hello hey lol lmao
    omg pls plz please love want need how what which where when who why much many price link
    size sizes buy cute pretty nice cool great beautiful gorgeous stunning amazing ship shipping
    does do did can could will would have has just like looks look one ones guys girl sis"""
)
FR_WORDS = _set(
    """le la les l un une des du de d est c ce cet cette ces je j tu il elle on nous vous ils elles
    et ou pour avec sans trop tres merci bonjour bonsoir coucou salut oui non ouais mdr ptdr jpp
    stp svp adore jadore quoi combien quel quelle quels quelles belle beau beaux joli jolie
    magnifique superbe sublime dispo ca pas mais aussi bien super genial chouette tro bo tt
    commande taille couleur teinte prix lien veux prends aime existe peut"""
)
FR_ACCENTS = re.compile(r"[éèêëàâçùûîïôœ]")

# --- Mentions ------------------------------------------------------------------------------------

AMBIGUOUS = _set("watch top polish shadow liner chain cap haut montre base fard")
"""Catalog words that are also common verbs or adjectives ("watch out", "c'est top",
"montre-nous"): they name a kind only right after a determiner or another catalog word."""

DETERMINERS = _set(
    """the this that these those a an my your ur her his our their its
    le la les l un une ce cet cette ces mon ma mes ton ta tes son sa ses notre votre du des"""
)

# --- Questions -----------------------------------------------------------------------------------

EN_WH = _set("what whats which how hows where wheres when whens who whos why whose")
EN_AUX = _set(
    """is are was were do does did can could will would should shall may might has have
    isnt arent doesnt dont didnt cant wont wouldnt"""
)
EN_SUBJECTS = _set(
    """it this that these those they you u ya i we she he there the a an any my your ur her his
    its anyone someone somebody yall y'all"""
)
EN_ANY = _set("any anyone anybody anything")
EN_FILLERS = _set(
    """hi hey hello ok okay so and but also omg oh um umm pls plz please guys girl sis babe yo
    well btw hmm wait lol q question quick ps"""
)
EN_EXCLAIM_AFTER_HOW = _set(
    """cute pretty beautiful gorgeous nice lovely amazing cool sweet adorable stunning good great
    fab fabulous chic elegant classy"""
)
EN_TAGS = (("or", "nah"), ("or", "not"), ("right",))
INFO_NOUNS = _set(
    """price prices cost link links size sizes sizing shipping delivery code discount stock
    prix lien liens taille tailles code livraison promo stock"""
)
POLITE = _set("pls plz please svp stp sil plait merci the le la les de du des a an")

FR_WH = _set("combien pourquoi quel quelle quels quelles lequel laquelle lesquels lesquelles")
FR_CLAUSE_STARTS = (
    ("comment",),
    ("ca", "existe"),
    ("il", "existe"),
    ("existe",),
    ("dispo",),
    ("c", "est", "dispo"),
    ("quoi",),
    ("a", "quel"),
    ("vous", "avez"),
    ("vous", "faites"),
    ("vous", "livrez"),
    ("on", "peut"),
    ("je", "peux"),
    ("tu", "peux"),
    ("vous", "pouvez"),
)
FR_NOT_ASKING = _set("pas plus trop tellement vraiment grave")
"""After a clause start above, a statement: "vous avez trop de goût", "je peux pas"."""
FR_AVAILABILITY = _set("existe dispo disponible")
"""Anywhere in a clause, a viewer asks: "la robe est dispo en XS", "ça existe en rouge"."""
FR_SEQUENCES = (
    ("est", "ce", "que"),
    ("est", "ce", "qu"),
    ("qu", "est", "ce"),
    ("c", "est", "quoi"),
    ("a", "t", "il"),
)
FR_TAGS = (("ou", "pas"), ("ou", "non"))
FR_INVERSION = re.compile(r"\b[a-zàâçéèêëîïôûùü]+-(?:t-)?(?:il|elle|on|ils|elles|vous|tu|je)\b")
FR_WHERE = re.compile(r"(?<![^\W\d_])où(?![^\W\d_])")

ZH_PARTICLES = re.compile(r"吗|(?<![什怎这那多要为])么")
ZH_WH = re.compile(r"多少|几(?!乎)|什么|啥|怎么|怎样|哪|为什么|为啥|是否|咋|如何")
ZH_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1|可不可以")
ZH_CHOICE = re.compile(r"(?<=.)还是(?![很挺太觉喜要算蛮])")
ZH_EXCLAIM = re.compile(r"这么|那么|多么|太.{0,6}了")
ZH_ASK_FOR = re.compile(r"求(?:链接|推荐|尺码|价格|试色|色号|教程)")
ZH_NE = "呢"
ZH_NE_MAX_BEFORE = 4
"""``呢`` asks ("红色呢？") after a short clause; after a long one it is mostly a statement's tone."""

# --- Product names -------------------------------------------------------------------------------

NAME_FILLERS = _set(
    """the a an and of with for de du des d l le la les a en et au aux pour
    mat mate satine creme brillant paillete nacre metallise liquide adulte enfant"""
)
"""Words that do not make part of a product's name its own ("matte lipstick", "de soleil"): a
part of a name pins the product only with a word that is neither these, a kind's, a colour's
nor a finish's."""
