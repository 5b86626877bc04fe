"""Riggs's grammar rules applied to lexicon entries: Dakota forms with their segments, rules and English.

Every form is built from pieces (form, kind) so the task's `meta.segments` come for free. The affix and
particle forms are read from `rules.yaml` (`operation.form`), so a speaker's correction of a rule reaches
every task; a rule marked `rejected` makes `Grammar.rule` return None and the forms that need it are not
built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VOWELS = set("aeiouáéíóú")
SUBJECTS = ("1sg", "2sg", "3sg", "1du", "1pl", "2pl", "3pl")
OBJECTS = ("1sg", "2sg", "3pl")
SUBJECT_ENGLISH = {
    "1sg": "I",
    "2sg": "you",
    "3sg": "he",
    "1du": "we two",
    "1pl": "we",
    "2pl": "you all",
    "3pl": "they",
}
OBJECT_ENGLISH = {"1sg": "me", "2sg": "you", "3pl": "them"}
SUBJECT_FEATURE = {
    "1sg": 'subject "I" (first person singular)',
    "2sg": 'subject "you" (one person)',
    "3sg": 'subject "he/she/it" (third person singular)',
    "1du": 'subject "we two" (you and I, dual)',
    "1pl": 'subject "we" (more than two)',
    "2pl": 'subject "you" (several people)',
    "3pl": 'subject "they" (plural)',
}
OBJECT_FEATURE = {
    "1sg": 'object "me"',
    "2sg": 'object "you" (one person)',
    "3pl": 'object "them" (animate plural)',
}
AGENT_RULES = {
    "1sg": "pron-agent-1sg",
    "2sg": "pron-agent-2sg",
    "1du": "pron-agent-1du",
    "1pl": "pron-agent-1pl",
    "2pl": "pron-agent-2pl",
    "3pl": "pron-3pl-pi",
}
PATIENT_RULES = {
    "1sg": "pron-patient-1sg",
    "2sg": "pron-patient-2sg",
    "1du": "pron-agent-1du",
    "1pl": "pron-agent-1pl",
    "2pl": "pron-patient-2pl",
    "3pl": "pron-3pl-pi",
}
OBJECT_RULES = {"1sg": "pron-object-1sg", "2sg": "pron-object-2sg", "3pl": "pron-object-3pl-wica"}
PLURAL_SUBJECTS = {"1pl", "2pl", "3pl"}
POSSESSIVE_RULES = {
    "mitawa": "possessive-1sg-mitawa",
    "nitawa": "possessive-2sg-nitawa",
    "tawa": "possessive-3sg-tawa",
}

# The rule ids each operation of `Grammar` can put on a form. A task builder declares those of the operations
# it calls (data/templates/registry.py); every build checks each draft's rule ids against its builder's list.
PERSON_RULES = (
    *dict.fromkeys([*AGENT_RULES.values(), *PATIENT_RULES.values(), *OBJECT_RULES.values()]),
    "pron-3sg-zero",
    "pron-y-1sg",
    "pron-y-2sg",
    "pron-transition-1sg-2sg",
    "pron-object-before-agent",
    "pron-un-vowel-initial",
    "pron-un-before-ni",
    "pron-un-before-vowel",
    "plural-pi",
    "ablaut-e-a-pi",
    "dual-no-pi",
    "stative-uses-patient",
)
"""`inflect` without tense: the pronouns, -pi and what they imply."""
TENSE_RULES = ("future-kta", "negation-sni", "future-negative-kte-sni", "ablaut-a-e")
"""`inflect(future=, negative=)`: kta, śni, kte śni and the a → e before them."""
IMPERATIVE_RULES = ("imperative-wo", "imperative-po", "ablaut-a-e")
DATIVE_RULES = ("dative-ki",)
NOUN_PHRASE_RULES = (
    "article-definite-kin",
    "article-definite-cin",
    "article-indefinite-wan",
    *POSSESSIVE_RULES.values(),
    "diminutive-na",
    "adjective-after-noun",
    "ablaut-a-e",
)
"""`noun_phrase`: articles, possessive words, -na, an adjective after the noun (a → e before ćiŋ)."""

Piece = tuple[str, str]


@dataclass
class Form:
    """A Dakota word or phrase under construction: words of pieces + the rules and affixes used."""

    words: list[list[Piece]]
    rule_ids: list[str] = field(default_factory=list)
    affixes: list[dict[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(p[0] for p in w) for w in self.words)

    def segments(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for i, word in enumerate(self.words):
            if i:
                out.append({"form": " ", "kind": "space"})
            out.extend({"form": f, "kind": k} for f, k in word if f)
        return out

    def use(self, rule_id: str) -> None:
        if rule_id not in self.rule_ids:
            self.rule_ids.append(rule_id)

    def add_affix(self, affix: str, slot: str, rule_id: str) -> None:
        """Record an affix the form carries (its text, slot and rule) and use its rule."""
        self.affixes.append({"form": affix, "slot": slot, "rule_id": rule_id})
        self.use(rule_id)


@dataclass(frozen=True)
class Lexeme:
    """One lexicon entry (Contract 0)."""

    id: str
    form: str
    pos: str
    gloss: str
    english: Mapping[str, Any]
    verb: Mapping[str, Any]
    animate: bool
    source: str
    review_status: str
    kin_term: bool = False
    features: tuple[str, ...] = ()
    """Semantic features of a noun (human, animal, artifact, food, mass, name, …) the templates select on."""
    countable: bool = True
    diminutive: str | None = None
    """The -na diminutive's source where one is attested; None: no diminutive is built."""

    def selects(self, role: str, noun: Lexeme) -> bool:
        """Does this verb accept `noun` as its `role` ("subject" or "object"), by the features in the
        lexicon?"""
        wanted = set(self.verb.get(role) or [])
        return bool(wanted & set(noun.features)) and "name" not in noun.features

    @property
    def is_copula_verb(self) -> bool:
        return str(self.english.get("base", "")).startswith("be ")


def un_index(lex: Lexeme) -> int:
    """Where 'we' uŋ goes: the entry's `verb.un_index` if given; before a vowel-initial verb whose pronoun
    slot is right after its first vowel or fuses with y (oyaka → uŋkoyakapi); else the pronoun slot, also in
    a vowel-initial verb whose slot lies deeper (ohiuŋyapi, inauŋźiŋ, úŋṡiuŋda in UniMorph Dakota,
    LaFontaine & McKay 2005)."""
    index = int(lex.verb.get("affix_index", 0))
    if "un_index" in lex.verb:
        return int(lex.verb["un_index"])
    front = index == 1 or (index > 1 and bool(lex.verb.get("y_initial")))
    return 0 if front and lex.form[:1] in VOWELS else index


class Grammar:
    """The non-rejected rules of `rules.yaml`, by id, and the operations that apply them."""

    def __init__(self, rules: list[Mapping[str, Any]]):
        self.rules = {r["id"]: r for r in rules if r.get("review_status") != "rejected"}
        self.asked: set[str] = set()
        """Every rule id the code asked about (`has`, `rule`, `form_of`); the build checks each is in the
        file."""

    def rule(self, rule_id: str) -> Mapping[str, Any] | None:
        self.asked.add(rule_id)
        return self.rules.get(rule_id)

    def form_of(self, rule_id: str) -> str | None:
        self.asked.add(rule_id)
        rule = self.rules.get(rule_id)
        return None if rule is None else str(rule["operation"].get("form", ""))

    def has(self, *rule_ids: str) -> bool:
        self.asked.update(rule_ids)
        return all(r in self.rules for r in rule_ids)

    # -- verbs ---------------------------------------------------------------------------------------------
    def inflect(
        self,
        lex: Lexeme,
        subject: str,
        obj: str | None = None,
        *,
        future: bool = False,
        negative: bool = False,
    ) -> Form | None:
        """The verb `lex` with a subject (and object), optionally future and/or negative; None if not
        buildable.

        The steps, in order: can this subject/object pair exist; the pronoun chain at the pronoun slot; where
        'we' uŋ goes; uŋ → uŋk before a vowel; the pieces of the word; the plural -pi; the particles
        kta/śni."""
        if not self._pair_exists(lex, subject, obj) or subject in (lex.verb.get("no_cells") or ()):
            return None
        if self._is_irregular(lex, subject):
            irregular = self._irregular(lex, subject, obj)
            if irregular is None:
                return None
            return self._with_tense(irregular, lex, future=future, negative=negative)
        index = int(lex.verb.get("affix_index", 0))
        if not 0 <= index <= len(lex.form):
            return None
        form = Form(words=[])
        built = self._pronoun_chain(form, lex, subject, obj, index)
        if built is None:
            return None
        chain, consumed_y = built
        placed = self._place_we(form, lex, subject, obj, index, chain)
        if placed is None:
            return None
        chain, moved = placed
        rest = lex.form[index + 1 :] if consumed_y else lex.form[index:]
        if not self._contact_all(form, lex, chain, moved, rest):
            return None
        pieces = self._pieces(form, lex, index, chain, moved, rest)
        if pieces is None or not self._plural(form, lex, subject, pieces):
            return None
        form.words.append(pieces)
        return self._with_tense(form, lex, future=future, negative=negative)

    @staticmethod
    def _pair_exists(lex: Lexeme, subject: str, obj: str | None) -> bool:
        """No object on stative or intransitive verbs, none of the subject's own person, no 'we … me', and no
        'we two … you': the dual uŋ- already means 'you and I' (Riggs 1852 § 13)."""
        if obj is None:
            return True
        if lex.verb.get("class") == "stative" or not lex.verb.get("transitive"):
            return False
        if subject[0] == obj[0] or (subject in ("1du", "1pl") and obj == "1sg"):
            return False
        return not (subject == "1du" and obj == "2sg")

    @staticmethod
    def _is_irregular(lex: Lexeme, subject: str) -> bool:
        """Does the lexicon list this subject's form under `verb.forms` (2pl: the 2sg form)?"""
        forms = lex.verb.get("forms") or {}
        return bool(forms.get("2sg" if subject == "2pl" else subject))

    def _irregular(self, lex: Lexeme, subject: str, obj: str | None) -> Form | None:
        """A form the lexicon lists under `verb.forms` (ećaŋmi 'I think', weksuya 'I remember'); 2pl is its
        2sg + -pi; an object pronoun goes in front (mayeksuya 'you remember me', wićaweksuya). 'I … you' (ći)
        is not built: no source shows how ći meets an irregular form."""
        base = (lex.verb.get("forms") or {}).get("2sg" if subject == "2pl" else subject)
        rule_id = (PATIENT_RULES if lex.verb.get("class") == "stative" else AGENT_RULES)[subject]
        if not base or not self.has(rule_id) or (subject, obj) == ("1sg", "2sg"):
            return None
        form = Form(words=[[(str(base), "stem")]], rule_ids=[rule_id])
        if obj is not None:
            if not self.has(OBJECT_RULES[obj]):
                return None
            prefix = self.form_of(OBJECT_RULES[obj]) or ""
            form.words[0].insert(0, (prefix, "prefix"))
            form.add_affix(prefix, "prefix", OBJECT_RULES[obj])
        if subject == "2pl":
            if not self.has("plural-pi"):
                return None
            pi = self.form_of("plural-pi") or "pi"
            form.words[0].append((pi, "suffix"))
            form.add_affix(pi, "suffix", "plural-pi")
        return form

    def _pronoun_chain(
        self, form: Form, lex: Lexeme, subject: str, obj: str | None, index: int
    ) -> tuple[list[tuple[str, str]], bool] | None:
        """The object and subject pronouns (affix, rule id) at the pronoun slot, and whether a y-initial
        stem's y was fused into wa/ya (→ md/d)."""
        stem, stative = lex.form, lex.verb.get("class") == "stative"
        chain: list[tuple[str, str]] = []
        if obj is not None:
            rule_id = "pron-transition-1sg-2sg" if (subject, obj) == ("1sg", "2sg") else OBJECT_RULES[obj]
            if not self.has(rule_id) or (
                rule_id == "pron-transition-1sg-2sg" and stem[index : index + 1] == "k"
            ):
                return None
            chain.append((self.form_of(rule_id) or "", rule_id))
        if subject == "3sg" or (obj == "2sg" and subject == "1sg"):
            return (chain, False) if self.has("pron-3sg-zero") else None
        rule_id = (PATIENT_RULES if stative else AGENT_RULES)[subject]
        if not self.has(rule_id):
            return None
        affix = self.form_of(rule_id) or ""
        if affix in ("wa", "ya") and lex.verb.get("y_initial") and stem[index : index + 1] == "y":
            fusion = "pron-y-1sg" if affix == "wa" else "pron-y-2sg"
            if not self.has(fusion):
                return None
            form.use(rule_id)
            chain.append((self.form_of(fusion) or "", fusion))
            return chain, True
        if affix:
            chain.append((affix, rule_id))
        return chain, False

    def _place_we(
        self, form: Form, lex: Lexeme, subject: str, obj: str | None, index: int, chain: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], tuple[str, str] | None] | None:
        """'we' uŋ: moved before a vowel-initial verb (uŋkoyakapi), before ni 'you' (uŋniyuzapi), and the
        object before the subject pronoun elsewhere; returns the chain and the moved uŋ (if any)."""
        we = subject in ("1du", "1pl")
        if we and un_index(lex) != index:
            if obj is not None or not self.has("pron-un-vowel-initial"):
                return None
            moved = chain.pop()
            form.use("pron-un-vowel-initial")
            return chain, moved
        if we and obj is not None:
            if obj != "2sg" or not self.has("pron-un-before-ni"):
                return None
            chain.reverse()
            form.use("pron-un-before-ni")
        elif obj is not None and len(chain) > 1:
            if not self.has("pron-object-before-agent"):
                return None
            form.use("pron-object-before-agent")
        return chain, None

    def _contact_all(
        self, form: Form, lex: Lexeme, chain: list[tuple[str, str]], moved: tuple[str, str] | None, rest: str
    ) -> bool:
        """uŋ → uŋk before a vowel, for the moved uŋ and every affix of the chain (in place)."""
        if moved is not None and self._un_contact(form, moved, lex.form[un_index(lex) :]) is None:
            return False
        for i, item in enumerate(chain):
            following = chain[i + 1][0] if i + 1 < len(chain) else rest
            contacted = self._un_contact(form, item, following)
            if contacted is None:
                return False
            chain[i] = contacted
        return True

    def _pieces(
        self,
        form: Form,
        lex: Lexeme,
        index: int,
        chain: list[tuple[str, str]],
        moved: tuple[str, str] | None,
        rest: str,
    ) -> list[Piece] | None:
        """The word's pieces: stem before the slot, (moved uŋ,) the chain, the rest of the stem."""
        stem = lex.form
        slot = "prefix" if index == 0 else "infix"
        pieces: list[Piece] = []
        if moved is not None:
            un_at = un_index(lex)
            moved = self._un_contact(form, moved, stem[un_at:])
            assert moved is not None
            moved_slot = "prefix" if un_at == 0 else "infix"
            if stem[:un_at]:
                pieces.append((stem[:un_at], "stem"))
            pieces.append((moved[0], moved_slot))
            form.add_affix(moved[0], moved_slot, moved[1])
            if stem[un_at:index]:
                pieces.append((stem[un_at:index], "stem"))
        elif stem[:index]:
            pieces.append((stem[:index], "stem"))
        for affix, rule_id in chain:
            pieces.append((affix, slot))
            form.add_affix(affix, slot, rule_id)
        if rest:
            pieces.append((rest, "stem"))
        return pieces

    def _plural(self, form: Form, lex: Lexeme, subject: str, pieces: list[Piece]) -> bool:
        """-pi for plural subjects (an ablauting final e becomes a before it: apapi) and the implied rules."""
        stative = lex.verb.get("class") == "stative"
        if subject in PLURAL_SUBJECTS:
            if (
                lex.verb.get("e_final") == "ablauting"
                and pieces
                and pieces[-1][1] == "stem"
                and pieces[-1][0].endswith("e")
            ):
                if not self.has("ablaut-e-a-pi"):
                    return False
                pieces[-1] = (pieces[-1][0][:-1] + "a", "stem")
                form.use("ablaut-e-a-pi")
            if not self.has("plural-pi"):
                return False
            pi = self.form_of("plural-pi") or "pi"
            pieces.append((pi, "suffix"))
            form.use((PATIENT_RULES if stative else AGENT_RULES)[subject])
            form.add_affix(pi, "suffix", "plural-pi")
        elif subject == "3sg":
            form.use("pron-3sg-zero")
        if subject == "1du":
            form.use("dual-no-pi")
        if stative and subject in ("1sg", "2sg", "2pl"):
            form.use("stative-uses-patient")
        return True

    def _with_tense(self, form: Form, lex: Lexeme, *, future: bool, negative: bool) -> Form | None:
        """kta (future), śni (negative), or both (kte śni)."""
        particles = (["future-kta"] if future else []) + (["negation-sni"] if negative else [])
        return self.add_particles(form, lex, particles) if particles else form

    def _un_contact(self, form: Form, item: tuple[str, str], following: str) -> tuple[str, str] | None:
        """uŋ → uŋk before a vowel (None if that rule is rejected); other affixes unchanged."""
        affix, rule_id = item
        if affix != "uŋ" or following[:1] not in VOWELS:
            return item
        if not self.has("pron-un-before-vowel"):
            return None
        form.use("pron-un-before-vowel")
        return self.form_of("pron-un-before-vowel") or "uŋk", rule_id

    def ablaut_last(self, form: Form, lex: Lexeme | None) -> bool:
        """Final a / aŋ → e on the last word if the lexeme ablauts (Riggs § 75); False if it cannot be
        built."""
        last = form.words[-1]
        if lex is not None and lex.verb.get("ablaut") == "unknown":
            return False
        if lex is not None and not lex.verb.get("ablaut"):
            return True
        piece, kind = last[-1]
        op = self.rules["ablaut-a-e"]["operation"] if self.has("ablaut-a-e") else {}
        finals = [op["final"]] if isinstance(op.get("final"), str) else list(op.get("final", []))
        if lex is not None and lex.verb.get("class") != op.get("nasal_final_class", lex.verb.get("class")):
            finals = [f for f in finals if not f.endswith("ŋ")]
        for final in sorted(finals, key=len, reverse=True):
            if piece.endswith(final):
                last[-1] = (piece[: -len(final)] + op.get("becomes", "e"), kind)
                form.use("ablaut-a-e")
                return True
        word = "".join(p[0] for p in last)
        return not word.endswith(("a", "aŋ"))

    def add_particles(self, form: Form, lex: Lexeme | None, rule_ids: list[str]) -> Form | None:
        """Append particles (kta, śni, wo, po, ka) after the last word, with ablaut where it is triggered."""
        if not self.has(*rule_ids):
            return None
        for i, rule_id in enumerate(rule_ids):
            triggers = self.rules[rule_id]["operation"].get("triggers_ablaut")
            if triggers and not self.ablaut_last(form, lex if i == 0 else None):
                return None
            particle = self.form_of(rule_id) or ""
            form.words.append([(particle, "particle")])
            form.add_affix(particle, "particle", rule_id)
        if rule_ids == ["future-kta", "negation-sni"]:
            if not self.has("future-negative-kte-sni"):
                return None
            form.use("future-negative-kte-sni")
        return form

    def imperative(self, lex: Lexeme, plural: bool) -> Form | None:
        """A command: the bare verb + wo (one person) or po (several)."""
        if lex.verb.get("class") == "stative":
            return None
        return self.add_particles(
            Form(words=[[(lex.form, "stem")]]), lex, ["imperative-po" if plural else "imperative-wo"]
        )

    def dative(self, lex: Lexeme) -> Form | None:
        """ki 'to/for someone' at the pronoun slot (only verbs whose entry says `dative: true`); k right after
        it becomes ć."""
        if not self.has("dative-ki") or not lex.verb.get("dative"):
            return None
        index = int(lex.verb.get("affix_index", 0))
        stem = lex.form
        op = self.rules["dative-ki"]["operation"]
        rest = stem[index:]
        if rest[:1] == "k":
            rest = op.get("k_becomes", "ć") + rest[1:]
        if rest[:1] in VOWELS or rest[:1] == "y":
            return None
        slot = "prefix" if index == 0 else "infix"
        pieces = [p for p in [(stem[:index], "stem"), (op["form"], slot), (rest, "stem")] if p[0]]
        form = Form(words=[pieces])
        form.add_affix(op["form"], slot, "dative-ki")
        return form

    # -- nouns ---------------------------------------------------------------------------------------------
    def noun_phrase(self, noun: Lexeme, kind: str, *, adjective: Lexeme | None = None) -> Form | None:
        """'the N', 'a N', 'my/your/his N', 'little N', 'the ADJ N' (article after the adjective); kin terms
        get neither mitawa/nitawa/tawa nor the diminutive."""
        form = Form(words=[[(noun.form, "stem")]])
        if kind == "diminutive":
            return self._diminutive(form, noun)
        if kind in ("mitawa", "nitawa", "tawa"):
            return self._possessive(form, noun, kind)
        if adjective is not None and not self._add_adjective(form, adjective, definite=kind == "definite"):
            return None
        if kind == "definite":
            return self.definite(form, after_ablaut=adjective is not None and "ablaut-a-e" in form.rule_ids)
        if kind == "indefinite":
            return self._indefinite(form)
        return None

    def _diminutive(self, form: Form, noun: Lexeme) -> Form | None:
        """'little N': the noun + -na (not for kin terms or nouns without a diminutive)."""
        if noun.kin_term or noun.diminutive is None or not self.has("diminutive-na"):
            return None
        na = self.form_of("diminutive-na") or "na"
        form.words[0].append((na, "suffix"))
        form.add_affix(na, "suffix", "diminutive-na")
        return form

    def _possessive(self, form: Form, noun: Lexeme, kind: str) -> Form | None:
        """'my/your/his N': the noun + mitawa/nitawa/tawa, for alienable things only: not for kin terms,
        persons ('his man'), or inalienable nouns (lexicon feature `inalienable`: body parts, ćaźe 'name',
        which take the prefixes mi-/ni- instead, mićaŋte 'my heart'; no prefixed form is built: none is
        attested in our sources)."""
        if noun.kin_term or {"inalienable", "human"} & set(noun.features):
            return None
        rule_id = POSSESSIVE_RULES[kind]
        if not self.has(rule_id):
            return None
        word = self.form_of(rule_id) or kind
        form.words.append([(word, "word")])
        form.add_affix(word, "particle", rule_id)
        return form

    def _add_adjective(self, form: Form, adjective: Lexeme, *, definite: bool) -> bool:
        """The adjective after the noun (final a/aŋ → e before a definite article); False if not buildable."""
        if not self.has("adjective-after-noun"):
            return False
        form.words.append([(adjective.form, "stem")])
        form.use("adjective-after-noun")
        return not definite or self.ablaut_last(form, adjective)

    def _indefinite(self, form: Form) -> Form | None:
        """'a N': the phrase + waŋ."""
        if not self.has("article-indefinite-wan"):
            return None
        wan = self.form_of("article-indefinite-wan") or "waŋ"
        form.words.append([(wan, "particle")])
        form.add_affix(wan, "particle", "article-indefinite-wan")
        return form

    def definite(self, form: Form, *, after_ablaut: bool = False) -> Form | None:
        """Append kiŋ; ćiŋ only right after a final a/aŋ changed to e (Riggs 1852 § 75), never after a word
        that simply ends in e (pte kiŋ, oyate kiŋ)."""
        if not self.has("article-definite-kin"):
            return None
        article = self.form_of("article-definite-kin") or "kiŋ"
        rule_id = "article-definite-kin"
        if after_ablaut and form.text.endswith("e") and self.has("article-definite-cin"):
            article = self.form_of("article-definite-cin") or "ćiŋ"
            rule_id = "article-definite-cin"
            form.use("article-definite-kin")
        form.words.append([(article, "particle")])
        form.add_affix(article, "particle", rule_id)
        return form


# -- English -------------------------------------------------------------------------------------------------
def english_verb(lex: Lexeme, subject: str, *, future: bool = False, negative: bool = False) -> str:
    """'I walk', 'he does not walk', 'we will not be good', … from the lexeme's English base/third forms."""
    base = str(lex.english["base"])
    third = str(lex.english.get("third", base))
    subj = SUBJECT_ENGLISH[subject]
    if lex.is_copula_verb:
        pred = base[3:]
        if future:
            return f"{subj} will {'not ' if negative else ''}be {pred}"
        be = {"1sg": "am", "3sg": "is"}.get(subject, "are")
        return f"{subj} {be} {'not ' if negative else ''}{pred}"
    if future:
        return f"{subj} will {'not ' if negative else ''}{base}"
    if negative:
        return f"{subj} {'does' if subject == '3sg' else 'do'} not {base}"
    return f"{subj} {third if subject == '3sg' else base}"


ENGLISH_PARTICLES = ("down", "up", "off", "around", "in", "away")


ENGLISH_PREPOSITIONS = ("for", "with", "at", "on", "over", "to", "of")


def with_object(english: str, lex: Lexeme, obj: str) -> str:
    """'he puts' + 'me' → 'he puts me'; a verb with a particle takes the object before it: 'he lays me down'.
    `obj` is a key of OBJECT_ENGLISH or the English word itself ("it")."""
    word = OBJECT_ENGLISH.get(obj, obj)
    words = str(lex.english["base"]).split(" ")
    at = next((i for i, w in enumerate(words) if i and w in ENGLISH_PARTICLES), None)
    tail = " ".join(words[at:]) if at is not None else ""
    if tail and english.endswith(" " + tail):
        return f"{english[: -len(tail)]}{word} {tail}"
    return f"{english} {word}"


def needs_it(lex: Lexeme) -> bool:
    """Does the verb's English need an object to be grammatical without one ('he waits for it', 'he puts it
    in')?"""
    words = str(lex.english.get("base", "")).split(" ")
    return bool(lex.verb.get("transitive")) and (
        words[-1] in ENGLISH_PREPOSITIONS or any(w in ENGLISH_PARTICLES for w in words[1:])
    )


def english_plain(lex: Lexeme, subject: str, *, future: bool = False, negative: bool = False) -> str:
    """english_verb without an object pronoun, with 'it' where the English needs an object."""
    english = english_verb(lex, subject, future=future, negative=negative)
    return with_object(english, lex, "it") if needs_it(lex) else english


def english_alternatives(text: str) -> list[str]:
    """Accepted variants: she/it for he, 'you' for 'you all', 'shall' for 'will' after I/we."""
    alts: list[str] = []
    if text.startswith("he "):
        alts += ["she " + text[3:], "it " + text[3:]]
    if text.startswith("you all "):
        alts.append("you " + text[8:])
    if text.startswith(("I will ", "we will ", "we two will ")):
        alts.append(text.replace(" will ", " shall ", 1))
    return alts


def with_article(noun: str, article: str) -> str:
    if article == "a":
        return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
    return f"{article} {noun}"
