"""The data audit as code: count, over a whole task build, each error class the linguistic audits found.

    python -m data.audit                      # the shipped train, held-out and attested files
    python -m data.audit FILE.jsonl [FILE …]  # any task files (e.g. an older build, for before/after counts)

Every class is judged with the lexicon's own records (`data/riggs/lexicon.yaml`: semantic features, e-final
class, names), so the same function counts an old build and the new one; the pairing of predicates and nouns
is judged with a table of its own (PREDICATE_NOT_OF), not with the lists the generator selects by. The last
line is the strict error rate: train + held-out tasks with a class wrong by the evidence (STRICT). The tests
assert that every class is 0 on the shipped build and catches a constructed instance
(tests/data/test_data_audit.py).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from data.grammar import Lexeme
from data.templates import takes_person_object

REPO = Path(__file__).resolve().parents[1]
LEXICON = REPO / "data" / "riggs" / "lexicon.yaml"
UNACCENTED = str.maketrans("áéíóú", "aeiou")
Task = Mapping[str, Any]


def load_lexicon(path: Path = LEXICON) -> dict[str, Lexeme]:
    entries = yaml.load(
        path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    return {
        e["id"]: Lexeme(
            id=e["id"],
            form=e["form"],
            pos=e["pos"],
            gloss=str(e["gloss"]),
            english=e.get("english") or {},
            verb=e.get("verb") or {},
            animate=bool(e.get("animate")),
            source=e["source"],
            review_status=e["review_status"],
            kin_term=bool(e.get("kin_term")),
            features=tuple(e.get("features") or ()),
            countable=bool(e.get("countable", True)),
            diminutive=e.get("diminutive"),
        )
        for e in entries["entries"]
    }


def dakota_texts(task: Task) -> list[str]:
    """The Dakota strings of a task: a Dakota gold and its alternatives, the Dakota a prompt asks to
    translate, and the derived forms a pattern task shows (wani "he walks" → mawani "I walk")."""
    texts = [task["answer"], *task["alternatives"]] if task["answer_language"] == "dakota" else []
    match = re.search(r"into English: (.*)", task["prompt"])
    shown = re.findall(r'→ ([^"]+) "', task["prompt"]) if task["family"] == "pattern" else []
    return texts + ([match.group(1)] if match else []) + [s.strip() for s in shown]


def words(text: str) -> list[str]:
    return [w.strip(".,!?\"'ʼ()") for w in text.split()]


def cin_not_after_ablaut(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """ćiŋ after a word whose e is not a→e ablaut of an ablauting verb (Riggs 1852 § 75): pte ćiŋ."""
    ablauted = {
        v.form[: -len(end)] + "e"
        for v in lex.values()
        if v.verb.get("ablaut") is True
        for end in ("aŋ", "a")
        if v.form.endswith(end)
    }
    for text in dakota_texts(task):
        ws = words(text)
        if any(
            w == "ćiŋ" and i and ws[i - 1] not in ablauted | {"kiŋ"} for i, w in enumerate(ws)
        ):  # kiŋ ćiŋ: want
            return True
    return False


def dual_acting_on_you(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """'we two … you': the dual uŋ- already includes 'you' (Riggs 1852 § 13)."""
    prompt = task["prompt"]
    return bool(re.match(r"we two .*\byou\b", task["meta"]["gloss"], re.I)) or (
        'subject "we two"' in prompt and 'object "you"' in prompt
    )


def e_before_pi(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """An ablauting e-final verb (lexicon `verb.e_final: ablauting`) written with e before -pi (apepi)."""
    ends = [
        lex[i].form[-2:-1] + "epi"
        for i in task["meta"]["lexeme_ids"]
        if i in lex and lex[i].verb.get("e_final") == "ablauting"
    ]
    return any(w.endswith(end) for end in ends for text in dakota_texts(task) for w in words(text))


def imperative_ablaut(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A command with wo/po whose verb changed its final a to e."""
    rules = set(task["meta"]["rule_ids"])
    return bool(rules & {"imperative-wo", "imperative-po"}) and "ablaut-a-e" in rules


LEXICON_FLAG_FORMS = {
    "v-waci": re.compile(r"^(ya|uŋ|uŋk)waći"),  # pronoun after wa-: wayaći, not yawaći
    "v-baksa": re.compile(r"^(wa|ya|uŋ|uŋk)baks"),  # bawaksa (UniMorph bawakse), not wabaksa
    "v-khpaya": re.compile(r"^(wa|ya)ḣpay"),  # stative: maḣpaya
}


def lexicon_flag(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """Forms the v1 lexicon flags got wrong (waći, baksa, ḣpaya) or a→e on wakaŋ, whose ablaut is doubtful."""
    ids = task["meta"]["lexeme_ids"]
    if "v-wakan" in ids and "ablaut-a-e" in task["meta"]["rule_ids"]:
        return True
    return any(
        pattern.match(w)
        for i, pattern in LEXICON_FLAG_FORMS.items()
        if i in ids
        for text in dakota_texts(task)
        for w in words(text)
    )


def numeral_with_uncountable(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A numeral with a mass or abstract noun ('three milk')."""
    ids = task["meta"]["lexeme_ids"]
    return any(i.startswith("num-") for i in ids) and any(
        i in lex and lex[i].pos == "noun" and not lex[i].countable for i in ids
    )


def unattested_diminutive(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """-na on a noun with no attested diminutive (hokśidaŋna, 'little nation')."""
    return "diminutive-na" in task["meta"]["rule_ids"] and not any(
        i in lex and lex[i].diminutive for i in task["meta"]["lexeme_ids"]
    )


def name_as_common_noun(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A birth-order name (Ćaske, Winona, …) used with an article, numeral, possessive or in a sentence."""
    return bool(task["meta"]["rule_ids"]) and any(
        i in lex and "name" in lex[i].features for i in task["meta"]["lexeme_ids"]
    )


def implausible_argument(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A sentence whose subject or object the verb does not select (lexicon features): 'you finish the
    night'."""
    rules, ids = set(task["meta"]["rule_ids"]), task["meta"]["lexeme_ids"]
    items = [lex[i] for i in ids if i in lex]
    if len(items) != len(ids):
        return False
    if "verb-final" in rules and len(items) == 2:
        return not items[1].selects("subject", items[0])
    if "copula-juxtaposition" in rules and len(items) == 2:
        return not items[1].selects("subject", items[0])
    if "word-order-sov" in rules and len(items) == 2:
        return not items[1].selects("object", items[0])
    if "word-order-sov" in rules and len(items) == 3:
        return not (items[2].selects("subject", items[0]) and items[2].selects("object", items[1]))
    return False


def missing_reading(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A Dakota → English verb task whose form has a second reading that is not accepted: ni-…-pi 'they … you'
    / 'he … you all'; uŋ-… 'we …' / 'he … us'."""
    ids, rules = task["meta"]["lexeme_ids"], set(task["meta"]["rule_ids"])
    if (
        task["family"] != "translation"
        or len(ids) != 1
        or not task["prompt"].startswith("Translate this Dakota into")
    ):
        return False
    verb = lex.get(ids[0])
    if verb is None or verb.pos != "verb":
        return False
    accepted = [task["answer"], *task["alternatives"]]
    if {"pron-object-2sg", "pron-3pl-pi"} <= rules:
        return not any("you all" in a for a in accepted)
    if rules & {"pron-agent-1du", "pron-agent-1pl"} and not any(r.startswith("pron-object") for r in rules):
        return takes_person_object(verb) and not any(re.search(r"\bus\b", a) for a in accepted)
    return False


def heldout_recall(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A held-out word-meaning question whose word train never shows and the prompt does not give."""
    prompt = task["prompt"]
    bare = (
        prompt.startswith(("What does the Dakota", "Give the Dakota"))
        or ("quoted in the grammar" in prompt or "as the grammar by Riggs gives it" in prompt)
        and "Vocabulary:" not in prompt
    )
    return task["split"] == "heldout" and bare


def accent_leak(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A gold that differs from a word of its own prompt only by a stress accent (taŋkśi → taŋkśí)."""
    from dakota_grammar_translation.orthography import match_key

    prompt = f" {' '.join(words(match_key(task['prompt']).translate(UNACCENTED)))} "
    return any(
        f" {' '.join(words(match_key(g).translate(UNACCENTED)))} " in prompt
        for g in [task["answer"], *task["alternatives"]]
        if g.strip()
    )


def spelling_slip(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """on for oŋ 'of, with' (Riggs's nasal), tiŋ for tin 'in the house' (Riggs 1852 § 91)."""
    return any(w in ("on", "tiŋ") for text in dakota_texts(task) for w in words(text))


# -- data fidelity v3: the classes the cross-check against UniMorph Dakota exposed ---------------------------
def _flagged_words(task: Task, patterns: Mapping[str, re.Pattern[str]]) -> bool:
    """Does a Dakota text of the task hold a form that `patterns[lexeme id]` marks wrong, for a lexeme of the
    task?"""
    ids = task["meta"]["lexeme_ids"]
    return any(
        pattern.search(text) for i, pattern in patterns.items() if i in ids for text in dakota_texts(task)
    )


VERB_SLOT_FORMS = {
    # UniMorph úŋṡiwada, úŋṡiuŋda: the pronoun after oŋśi-, not after oŋ-
    "v-onshida": re.compile(r"oŋ(wa|ya|ni|ći|ma|wića|uŋ)śid|uŋkoŋśid"),
    "v-kiksuya": re.compile(r"(wa|ya)kiksuy"),  # UniMorph weksuye, yeksuye
    "v-ishtinma": re.compile(r"i(wa|ya)śtiŋm"),  # UniMorph miṡtiŋme, niṡtiŋme
    "v-yuta": re.compile(r"(^|\s|wića|ma|ni)(md|d)ut[ae]"),  # UniMorph wáte, yáte
}
"""Lexeme id → the wrong forms of the strict verb classes (audit of v2, § 4)."""

ATTESTED_SLOT_UN_FORMS = {
    "v-ohiya": re.compile("uŋkohiy"),  # UniMorph ohiuŋye
    "v-ipuza": re.compile("uŋkipuz"),  # UniMorph íuŋpuze
}
"""'we' uŋ moved in front of a verb whose own UniMorph paradigm keeps it in the slot (strict)."""

FRONT_UN_FORMS = {
    lexeme_id: re.compile(r"uŋk" + stem)
    for lexeme_id, stem in {
        "v-opeton": "opet",
        "v-icekiya": "ićek",
        "v-amani": "aman",
        "v-iyokipi": "iyok",
        "v-awanyaka": "awaŋ",  # UniMorph awaŋuŋyaŋke
        "v-okiya": "okiy",  # UniMorph óuŋkiye, doubtful: not built
    }.items()
}
"""'we' uŋ moved in front of another verb whose pronoun slot lies deeper (UniMorph keeps it in the slot of
every such verb it has; these verbs themselves it does not have: doubtful)."""

ABLAUT_FLAG_FORMS = {
    "v-yukhpa": re.compile(r"ḣpa (kta|śni)"),  # UniMorph cites yuḣpe: ablauting
    "v-eyukhpa": re.compile(r"ḣpa (kta|śni)"),
    "v-yazan": re.compile(r"yaze\b"),  # UniMorph cites yazaŋ: not ablauting
    "v-onshida": re.compile(r"śi\w*de\b"),  # UniMorph cites úŋṡida: not ablauting (oŋśide, oŋśiwade)
}


def verb_slot(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """oŋwaśida, wakiksuya, iwaśtiŋma, mduta: the pronoun slot or irregular forms UniMorph contradicts."""
    return _flagged_words(task, VERB_SLOT_FORMS)


def attested_slot_un(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """uŋkohiya, uŋkipuza: 'we' uŋ in front where UniMorph's own paradigm of the verb has it in the slot."""
    return _flagged_words(task, ATTESTED_SLOT_UN_FORMS)


def front_un(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """uŋkopetoŋ, uŋkićekiya: 'we' uŋ in front of another deep-slot vowel-initial verb."""
    return _flagged_words(task, FRONT_UN_FORMS)


def ablaut_flag(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """yuḣpa kta (UniMorph cites yuḣpe), mayaze śni (UniMorph cites yazaŋ), oŋśide (cited úŋṡida)."""
    return _flagged_words(task, ABLAUT_FLAG_FORMS)


POSSESSIVE_RULES = {"possessive-1sg-mitawa", "possessive-2sg-nitawa", "possessive-3sg-tawa"}


def _possessed(task: Task, lex: Mapping[str, Lexeme]) -> list[Lexeme]:
    if not POSSESSIVE_RULES & set(task["meta"]["rule_ids"]):
        return []
    return [lex[i] for i in task["meta"]["lexeme_ids"] if i in lex and lex[i].pos == "noun"]


def inalienable_possessive(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """mitawa/nitawa/tawa after a body part or another inalienable noun (taŋćaŋ mitawa for mitaŋćaŋ)."""
    return any({"body", "inalienable"} & set(n.features) for n in _possessed(task, lex))


def possessed_person(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """A person possessed with tawa ('his man', wićaśta tawa); kin terms are not built with it."""
    return any("human" in n.features for n in _possessed(task, lex))


def person_told(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """oyaka 'tell (a thing)' with a person object ('he tells you' is okiyaka)."""
    return "v-oyaka" in task["meta"]["lexeme_ids"] and any(
        r.startswith("pron-object") or r == "object-agreement-wica" for r in task["meta"]["rule_ids"]
    )


PREDICATE_NOT_OF = {
    **dict.fromkeys(
        ("white", "black", "red", "yellow", "blue", "brown", "gray", "green"),
        {"human", "abstract", "time", "group", "spirit"},
    ),
    **dict.fromkeys(("hot", "cold"), {"human", "abstract", "group", "spirit"}),
    **dict.fromkeys(
        ("sick", "tired", "fat", "sad", "glad", "wise", "pleased", "thirsty"),
        {"artifact", "abstract", "time", "place", "natural", "food", "body"},
    ),
}
"""English predicate → noun classes it cannot describe. Reviewed by hand and kept apart from the lexicon's
`subject` lists that the generator selects with, so the check is independent of them: no colour of a person
(an ethnic label) or of an abstract noun or a time; no temperature of a person or a thought; no feeling of a
thing."""


def predicate_pairing(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """'the language is red', 'the chief is white', 'the knife is sick': a predicate with a noun it cannot
    describe (PREDICATE_NOT_OF)."""
    items = [lex[i] for i in task["meta"]["lexeme_ids"] if i in lex]
    nouns = [n for n in items if n.pos == "noun"]
    for verb in (v for v in items if v.pos == "verb" and v.is_copula_verb):
        barred = PREDICATE_NOT_OF.get(str(verb.english["base"])[3:], set())
        if any(barred & set(n.features) for n in nouns):
            return True
    return False


def hidden_number(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """English that does not show number ('the fish will go', 'I see the deer') with a Dakota gold that does
    (-pi, wića): only one of two right answers is accepted."""
    rules = set(task["meta"]["rule_ids"])
    hidden = [
        n
        for i in task["meta"]["lexeme_ids"]
        if i in lex
        for n in [lex[i]]
        if n.pos == "noun" and n.animate and n.english.get("plural") in (None, n.english.get("singular"))
    ]
    if not hidden or task["family"] not in ("syntax", "reverse_translation", "translation"):
        return False
    return "object-agreement-wica" in rules or ("future-kta" in rules and "verb-final" in rules)


def ejective_apostrophe(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """An ejective written with an apostrophe (kʼu) where Riggs writes a dotted letter (ḳu, Riggs 1852
    § 2)."""
    return any(re.search(r"[ptkcćPTKCĆ][\u0307\u0323]?[ʼ']", text) for text in dakota_texts(task))


def attested_lemma_ours(task: Task, lex: Mapping[str, Lexeme]) -> bool:
    """An attested task whose lemma is one of our lexicon's verbs under another spelling (kaġe, ḳ'u): the
    split is meant to be lemma-disjoint from train and held-out."""
    from data.import_unimorph import lemma_key

    if task["split"] != "attested":
        return False
    return lemma_key(task["meta"]["stem"]) in _verb_keys(
        frozenset(v.form for v in lex.values() if v.pos == "verb")
    )


@functools.lru_cache(maxsize=4)
def _verb_keys(forms: frozenset[str]) -> frozenset[str]:
    from data.import_unimorph import lemma_key

    return frozenset(lemma_key(f) for f in forms)


CLASSES: dict[str, Callable[[Task, Mapping[str, Lexeme]], bool]] = {
    "ćiŋ not after a→e": cin_not_after_ablaut,
    "dual subject acting on 'you'": dual_acting_on_you,
    "e not a before -pi": e_before_pi,
    "wo/po with a→e": imperative_ablaut,
    "lexicon flags (waći, baksa, ḣpaya, wakaŋ)": lexicon_flag,
    "numeral with an uncountable noun": numeral_with_uncountable,
    "unattested -na diminutive": unattested_diminutive,
    "birth-order name as a common noun": name_as_common_noun,
    "implausible subject or object": implausible_argument,
    "second reading not accepted": missing_reading,
    "held-out word recall (unlearnable)": heldout_recall,
    "gold = prompt word up to an accent": accent_leak,
    "spelling slip (on, tiŋ)": spelling_slip,
    "verb slot or irregular form (oŋśida, kiksuya, iśtiŋma, yuta)": verb_slot,
    "uŋ in front of ohiya, ipuza": attested_slot_un,
    "uŋ in front of another deep-slot verb": front_un,
    "ablaut flag (yuḣpa, yazaŋ, oŋśida)": ablaut_flag,
    "possessive word after an inalienable noun": inalienable_possessive,
    "possessed person ('his man')": possessed_person,
    "oyaka with a person object": person_told,
    "predicate on a noun it cannot describe": predicate_pairing,
    "number hidden in English, shown in Dakota": hidden_number,
    "ejective written with ʼ": ejective_apostrophe,
    "attested lemma our lexicon has": attested_lemma_ours,
}


STRICT = (
    "verb slot or irregular form (oŋśida, kiksuya, iśtiŋma, yuta)",
    "uŋ in front of ohiya, ipuza",
    "possessive word after an inalienable noun",
)
"""The classes wrong by the evidence (UniMorph and the Lakota cognate agree, or the noun is inalienable):
`python -m data.audit` reports their union as the strict error rate of train + held-out."""


def strict_rate(tasks: Iterable[Task], found: Mapping[str, list[str]]) -> tuple[int, int]:
    """(train + held-out tasks with a strict class, train + held-out tasks)."""
    derived = {t["id"] for t in tasks if t["split"] in ("train", "heldout")}
    strict = set().union(*(set(found[name]) for name in STRICT)) & derived
    return len(strict), len(derived)


def audit(tasks: Iterable[Task], lex: Mapping[str, Lexeme] | None = None) -> dict[str, list[str]]:
    """Each class → the ids of the tasks that have it."""
    lex = load_lexicon() if lex is None else lex
    found: dict[str, list[str]] = {name: [] for name in CLASSES}
    for task in tasks:
        for name, check in CLASSES.items():
            if check(task, lex):
                found[name].append(task["id"])
    return found


def main(argv: list[str] | None = None) -> int:
    import json

    from dakota_grammar_translation.tasks import DATA_DIR

    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or [
        DATA_DIR / "tasks_train.jsonl",
        DATA_DIR / "tasks_heldout.jsonl",
        DATA_DIR / "tasks_attested.jsonl",
    ]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such task file: {missing[0]}", file=sys.stderr)
        return 2
    tasks = [
        json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    found = audit(tasks)
    print(f"{len(tasks)} tasks")
    for name, ids in found.items():
        print(f"  {name:<62}{len(ids):>6}")
    print(f"  {'tasks with any class':<62}{len(set().union(*map(set, found.values()))):>6}")
    strict, derived = strict_rate(tasks, found)
    print(f"strict errors (train + held-out): {strict}/{derived} ({strict / max(derived, 1):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
