"""Twin recipes for the span tasks of lesson 03: question answering (role ``qa``) and
named entities (role ``ner``).

Both twins start from the real all-MiniLM-L6-v2 weights (``minilm_folder()``), cut to
their first ``LAYERS`` layers, with its whole uncased WordPiece vocabulary (so that a name
or place the twin never saw is still a word whose pretrained embedding means something,
not a string of pieces), then fine-tuned
on data generated here from templates and small hand-written lexicons:

- ``qa``: SQuAD-style (question, context, answer span) triples: definitional questions
  ("What is X ?" over "X relates to the ...") and who / where / when questions over
  short generated biographies; a ``BertForQuestionAnswering``.
- ``ner``: sentences whose persons, places, organisations and misc names (nationalities,
  languages, events) carry CoNLL-2003 BIO labels, as dslim/bert-base-NER has them; a
  ``BertForTokenClassification``, labels on each word's first sub-token.

``qa_examples(split)`` and ``ner_examples(split)`` give the generated data (``"train"``
or ``"held-out"``: new names, places, organisations, terms, definitions and templates),
so that tests and lessons can check the twins on inputs they never trained on.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

from ._contract import Check, at_least, lead
from ._registry import TwinRecipe, register
from ._train import chunks, fit, is_held_out, minilm, minilm_vocab, pad, split_words

LAYERS = 3  # MiniLM layers kept (of 6)
NER_LABELS = ("O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

QA_TRAIN = 6000
QA_HELD_OUT = 300
QA_STEPS = 150
QA_BATCH = 16
QA_LR = 3e-4
QA_DEFINITIONS = 0.5  # share of definitional examples (the rest: biographies)
QA_DISTRACTORS = 0.85  # share of contexts with a second definition / a second person
QA_FILLERS = 0.15  # share of contexts with an unrelated sentence

NER_TRAIN = 4000
NER_HELD_OUT = 400
NER_STEPS = 90
NER_BATCH = 32
NER_LR = 2e-4


# --------------------------------------------------------------------------- lexicons
# Each list is split into the part the twins train on and a held-out part (after "|").

FIRST_NAMES = split_words("""
Emmanuel, John, Maria, Ahmed, Sophie, Pierre, Angela, David, Elena, Carlos, Yuki, Olga,
Thomas, Fatima, Lucas, Anna, Michael, Sarah, Ivan, Isabel, Peter, Laura, Hans, Aisha, Marco,
Julia, Daniel, Nina, Rafael, Emma, Omar, Grace, Victor, Helen, Jorge, Claire, Samuel, Ingrid,
Kenji, Paul, Alice, George, Rosa, Mohammed, Lisa, James, Karen, Antonio, Sofia, William,
Catherine, Pablo, Natalia, Richard, Mary, Ali, Diana, Jan, Eva
| Oliver, Chloe, Mateo, Hannah, Tomasz, Giulia, Felix, Amelia, Dmitri, Leila, Hugo, Ruth,
Stefan, Priya, Andre, Vera, Henrik, Lucia, Arjun, Nadia, Simon, Monica, Patrick, Irene,
Joseph, Rebecca, Luis, Martha, Viktor, Alicia
""")
LAST_NAMES = split_words("""
Macron, Smith, Garcia, Muller, Rossi, Dubois, Tanaka, Ivanov, Kowalski, Johnson, Brown,
Schmidt, Silva, Nguyen, Chen, Lopez, Fischer, Moreau, Bianchi, Novak, Petrov, Andersen, Jensen,
Murphy, Kelly, Walker, Wright, Clarke, Hughes, Costa, Ferreira, Sato, Suzuki, Park, Kim, Singh,
Patel, Wilson, Taylor, Davies, Evans, Roberts, Robinson, Lewis, Young, Allen, Mitchell,
Campbell, Anderson, Gonzalez, Hernandez, Weber, Wagner, Becker, Hoffmann, Ricci, Marino
| Thompson, Bergman, Romano, Lefebvre, Watanabe, Sokolov, Nowak, Harris, Bennett, Schneider,
Santos, Larsen, Ramirez, Okafor, Haddad, Lindqvist, Morgan, Cooper, Fernandez, Meyer,
Kruger, Colombo, Yamamoto, Volkov, Jackson, Turner, Phillips, Carter, Edwards, Morris
""")
PLACES = split_words("""
Paris, London, Berlin, Madrid, Rome, Tokyo, Moscow, Cairo, Lisbon, Vienna, Dublin, Warsaw,
Athens, Prague, Beijing, Sydney, Toronto, Chicago, Boston, Mumbai, Delhi, Amsterdam, Brussels,
Zurich, Montreal, Denver, Dallas, Manila, Bangkok, Lagos, France, Germany, Italy, Spain, Japan,
China, Brazil, Canada, Egypt, Poland, Kenya, Mexico, India, Ireland, Greece, Russia, Australia,
Argentina, Turkey, New York, South Africa, Hong Kong, Buenos Aires, New Zealand, Texas,
California, Scotland, Europe, Africa, Asia
| Munich, Oslo, Stockholm, Helsinki, Budapest, Seoul, Lima, Nairobi, Istanbul, Edinburgh,
Geneva, Milan, Barcelona, Copenhagen, Hamburg, Vancouver, Melbourne, Osaka, Norway, Sweden,
Finland, Austria, Portugal, Chile, Peru, Vietnam, Denmark, Nigeria, Los Angeles,
San Francisco, Cape Town, Rio de Janeiro, Saudi Arabia, Florida
""")
ORGANISATIONS = split_words("""
Google, Microsoft, Siemens, Toyota, Reuters, United Nations, European Union, Red Cross, NATO,
Greenpeace, Volkswagen, Nokia, Samsung, BBC, Harvard University, World Bank, Real Madrid,
Manchester United, Interpol, UNESCO, Airbus, Boeing, Ferrari, Sony, Facebook, Oxford University,
Barclays, Shell, Chelsea, Bayern Munich, the World Health Organization, the Labour Party,
General Motors, Coca-Cola, Pepsi, Adidas, Nike
| Amazon, Intel, Nestle, Philips, Unilever, Bayer, Renault, Honda, Ikea, FIFA, Oxfam,
Yale University, Deutsche Bank, Juventus, Ajax, Heineken, Lufthansa, Ericsson, Fiat, Nasa,
Cambridge University, the Green Party, Mitsubishi, Liverpool
""")
NATIONALITIES = split_words("""
French, German, Italian, Spanish, Japanese, Chinese, British, American, Russian, Greek, Irish,
Indian, Mexican, Egyptian, Australian, Turkish, European, African, Kenyan, Argentine
| Swedish, Polish, Dutch, Brazilian, Korean, Canadian, Norwegian, Austrian, Portuguese,
Nigerian, Chilean
""")
LANGUAGES = split_words("""
English, French, German, Spanish, Italian, Japanese, Russian, Chinese, Arabic, Greek
| Swedish, Polish, Dutch, Korean, Portuguese, Hindi, Turkish
""")
EVENTS = split_words("""
Olympic Games, World Cup, Champions League, Nobel Prize, Winter Olympics, Tour de France,
Oscars, Eurovision Song Contest, Davis Cup, Ryder Cup
| Super Bowl, Wimbledon, Grammy Awards, Asian Games, Golden Globes, Giro d'Italia
""")

# QA: fields, terms and definitions are built from these parts.
FIELDS = split_words("""
artificial intelligence, machine learning, biology, economics, medicine, physics, computer
science, chemistry, psychology, engineering, geography, philosophy, music, statistics
| history, astronomy, law, architecture, agriculture, mathematics, sociology
""")
TERM_MODIFIERS = split_words("""
computational, statistical, marine, urban, digital, cognitive, quantum, applied, molecular,
environmental, social, medical, industrial, visual, musical, financial, clinical, cultural,
structural, experimental, spoken, deep, natural
| agricultural, nuclear, tropical, historical, legal, mobile, optical, rural, genetic, solar
""")
TERM_MIDDLES = split_words("""
data, language, signal, image, speech, network, text, soil, forest, energy, water, market,
protein, traffic, sound, crop, ocean
| climate, memory, cell, coral, metal, vision, voice, glacier
""")
TERM_HEADS = split_words("""
linguistics, biology, design, ecology, economics, chemistry, engineering, planning, forensics,
geology, robotics, acoustics, processing, mining, analysis, mapping, modelling, theory,
science, management, recognition, physics
| archaeology, cartography, informatics, synthesis, imaging, monitoring, ethics, retrieval
""")
DEF_HEADS = split_words("""
study, use, usage, practice, science, art, design, analysis, management, measurement,
protection, treatment, production, description, observation, planning, teaching, modelling,
application, control
| examination, exploration, organisation, simulation, documentation, preservation
""")
DEF_OBJECTS = split_words("""
machines, computers, living cells, plants, ocean currents, old buildings, city traffic,
ancient coins, human memory, weather patterns, musical sounds, river systems, financial markets,
the human body, animal behaviour, chemical reactions, electric circuits, public health,
written texts, rocks and minerals, farm animals, large networks, digital images, spoken words
| distant stars, deep forests, mountain glaciers, early languages, coral reefs, sea birds,
steel bridges, desert soils, folk songs, rare diseases
""")
DEF_VERBS = split_words("""
process, understand, store, measure, predict, describe, repair, improve, protect, compare,
classify, record, explain, translate, detect, control, model, study
| analyse, preserve, simulate, forecast, interpret, restore
""")
DEF_GOALS = split_words("""
human language, large data sets, natural resources, public services, medical records, new
materials, economic growth, local communities, daily life, complex systems, sound waves,
moving objects
| clean energy, ancient history, plant diseases, urban noise, foreign markets
""")
DEF_PLACES = split_words("""
dry regions, large cities, cold climates, small villages, the deep sea, rural areas
| mountain valleys, island nations, polar regions
""")
DEF_VERBS_LINK = split_words("""
is, relates to, refers to, means, describes, is defined as, deals with, is concerned with,
is best described as, stands for
| is understood as, denotes
""")
JOBS = split_words("""
doctor, teacher, engineer, writer, painter, lawyer, farmer, singer, pilot, chemist, banker,
journalist, nurse, architect
| sculptor, surgeon, geologist, librarian, composer, diplomat
""")
COMPANY_STEMS = split_words("""
North, Blue, Silver, Green, Bright, Stone, River, Iron, Sun, Oak, Red, Star, Cloud, Lake
| Maple, Falcon, Crystal, Harbor, Summit, Cedar
""")
COMPANY_TAILS = split_words("""
Systems, Labs, Foods, Energy, Motors, Books, Media, Robotics, Textiles, Pharma, Logistics
| Studios, Airlines, Software, Chemicals
""")
SYLLABLES = split_words("""
ka, lo, mi, ren, tor, va, sel, bri, don, ma, ri, zu, fen, ol, dar, ne
| quo, xen, bel, thra, wyn, iga
""")
FILLERS = (
    ("Many researchers currently study this area.", "Work in this field has grown quickly.",
     "It is taught at many universities.", "The idea is older than most people think.",
     "New tools appear every year.", "Several journals publish results on it.",
     "Students often find it difficult at first.", "It has changed a great deal since then.",
     "The company later grew into a large firm.", "Few people remember the early years."),
    ("It attracts funding from many countries.", "Its methods keep changing.",
     "Nobody expected such rapid progress."),
)


# --------------------------------------------------------------------------- QA data

def _pick(rng: random.Random, lexicon: tuple[tuple[str, ...], tuple[str, ...]], held: bool,
          mix: float = 0.0) -> str:
    """A word of the train part, or of the held-out part (mixed with train words at ``mix``)."""
    if held and rng.random() >= mix:
        return rng.choice(lexicon[1])
    return rng.choice(lexicon[0])


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _invented_name(rng: random.Random, held: bool) -> str:
    syl = SYLLABLES[1] if held else SYLLABLES[0]
    word = lambda n: "".join(rng.choice(syl) for _ in range(n)).capitalize()  # noqa: E731
    return f"{word(rng.randint(2, 3))} {word(rng.randint(2, 3))}"


def _person(rng: random.Random, held: bool) -> str:
    if rng.random() < 0.2:
        return _invented_name(rng, held)
    return f"{_pick(rng, FIRST_NAMES, held)} {_pick(rng, LAST_NAMES, held)}"


def _term(rng: random.Random, held: bool) -> str:
    shape = rng.random()
    head = _pick(rng, TERM_HEADS, held, mix=0.5)
    if shape < 0.35:
        return f"{_pick(rng, TERM_MODIFIERS, held)} {head}"
    if shape < 0.7:
        return f"{_pick(rng, TERM_MIDDLES, held)} {head}"
    if shape < 0.9:
        mod, mid = _pick(rng, TERM_MODIFIERS, held, mix=0.5), _pick(rng, TERM_MIDDLES, held)
        return f"{mod} {mid} {head}"
    return _invented_name(rng, held).split()[0].lower() + rng.choice(("logy", "graphy", "nomics"))


def _definition(rng: random.Random, held: bool) -> str:
    head = _pick(rng, DEF_HEADS, held, mix=0.4)
    obj = _pick(rng, DEF_OBJECTS, held, mix=0.3)
    tail = rng.random()
    if tail < 0.45:
        verb1, verb2 = _pick(rng, DEF_VERBS, held, mix=0.4), _pick(rng, DEF_VERBS, held, mix=0.4)
        verbs = verb1 if verb1 == verb2 or rng.random() < 0.3 else f"{verb1} and {verb2}"
        text = f"{head} of {obj} to {verbs} {_pick(rng, DEF_GOALS, held, mix=0.3)}"
    elif tail < 0.65:
        text = f"{head} of {obj} in {_pick(rng, DEF_PLACES, held, mix=0.3)}"
    elif tail < 0.8:
        text = f"{head} of {obj} for {_pick(rng, DEF_GOALS, held, mix=0.3)}"
    else:
        text = f"{head} of {obj}"
    return text


def _answer(sentence: str) -> tuple[str, int, str]:
    """Split a sentence holding ``[[answer]]`` into (sentence, answer offset, answer)."""
    start = sentence.index("[[")
    end = sentence.index("]]")
    answer = sentence[start + 2:end]
    return sentence[:start] + answer + sentence[end + 2:], start, answer


def _definition_example(rng: random.Random, held: bool) -> tuple[str, str, str, int]:
    term = _term(rng, held)
    other = _term(rng, held)
    while other == term:
        other = _term(rng, held)
    definition, other_def = _definition(rng, held), _definition(rng, held)
    link = _pick(rng, DEF_VERBS_LINK, held, mix=0.5)
    det = rng.choice(("the ", "the ", "a ", ""))
    if det == "a " and definition[0] in "aeio":
        det = "an "
    shown = _title(term) if rng.random() < 0.4 else term
    intro = ""
    if rng.random() < 0.5:
        f1, f2 = _pick(rng, FIELDS, held, mix=0.5), _pick(rng, FIELDS, held, mix=0.5)
        f1 = _title(f1) if rng.random() < 0.5 else f1
        intro = f"In {f1} and {f2}, " if f1.lower() != f2 else f"In {f2}, "
    sentence = _cap(f"{intro}{shown} {link} {det}[[{definition}]].")
    parts = [sentence]
    if rng.random() < QA_DISTRACTORS:
        other_link = _pick(rng, DEF_VERBS_LINK, held, mix=0.5)
        parts.insert(rng.randint(0, 1), f"{_cap(other)} {other_link} the {other_def}.")
    if rng.random() < QA_FILLERS:
        parts.append(_pick(rng, FILLERS, held, mix=0.5))
    question = rng.choice(("What is {} ?", "What is {}?", "What does {} mean ?",
                           "What is meant by {} ?"))
    asked = term if rng.random() < 0.7 else _title(term)
    return _assemble(question.format(asked), parts, rng)


def _assemble(question: str, parts: list[str], rng: random.Random) -> tuple[str, str, str, int]:
    sep = "\n" if rng.random() < 0.3 else " "
    context = sep.join(parts)
    if sep == "\n" and rng.random() < 0.5:
        context = "\n" + context + "\n"
    context, start, answer = _answer(context)
    return question, context, answer, start


def _life(rng: random.Random, fact: dict) -> str:
    who, where, when = fact["person"], fact["born_in"], fact["born"]
    if rng.random() < 0.7:
        return f"{who} was born in {where} in {when}."
    return f"In {when}, {who} was born in {where}."


def _foundation(rng: random.Random, fact: dict) -> str:
    who, what, where, when = fact["person"], fact["company"], fact["based"], fact["founded"]
    if rng.random() < 0.5:
        return f"{who} founded {what} in {where} in {when}."
    return f"In {when}, {who} founded {what}, a company based in {where}."


def _biography_example(rng: random.Random, held: bool) -> tuple[str, str, str, int]:
    """A question on a mini-biography: the asked person's sentence, often next to another's."""
    kind = rng.choice(("born_in", "born", "founder", "company", "based", "founded"))
    birth_kind = kind in ("born_in", "born")
    people = [_person(rng, held), _person(rng, held)]
    while people[1] == people[0]:
        people[1] = _person(rng, held)
    sentences = []
    for index, person in enumerate(people):
        company = (f"{_pick(rng, COMPANY_STEMS, held)}{rng.choice(('', ' '))}"
                   f"{_pick(rng, COMPANY_TAILS, held, mix=0.5)}")
        if rng.random() < 0.3:
            company = _pick(rng, ORGANISATIONS, held)
        fact = {"person": person, "born_in": _pick(rng, PLACES, held),
                "born": str(rng.randint(1890, 2005)), "company": company,
                "based": _pick(rng, PLACES, held), "founded": str(rng.randint(1920, 2023))}
        if index == 0:
            asked = dict(fact)
        elif rng.random() >= QA_DISTRACTORS:
            break
        birth, found = _life(rng, fact), _foundation(rng, fact)
        if index == 0:
            slot = "person" if kind == "founder" else kind
            fact[slot] = f"[[{fact[slot]}]]"
            if birth_kind:
                birth = _life(rng, fact)
            else:
                found = _foundation(rng, fact)
        sentences.append(birth if birth_kind else found)
        if index == 0 and rng.random() < 0.3:  # the same person's other fact
            sentences.append(found if birth_kind else birth)
    rng.shuffle(sentences)
    if rng.random() < QA_FILLERS:
        sentences.insert(rng.randint(0, len(sentences)), _pick(rng, FILLERS, held, mix=0.5))
    p, company = asked["person"], asked["company"]
    question = {
        "born_in": f"Where was {p} born ?",
        "born": f"When was {p} born ?",
        "founder": f"Who founded {company} ?",
        "company": f"What did {p} found ?",
        "based": rng.choice((f"Where is {company} based ?", f"Where did {p} found {company} ?")),
        "founded": rng.choice((f"When was {company} founded ?", f"When did {p} found {company} ?")),
    }[kind]
    return _assemble(question, sentences, rng)


QA_LESSON_QUESTION = "What is natural language processing ?"
QA_LESSON_CONTEXT = """
In Artificial Intelligence and machine learning, Natural Language Processing relates to the usage of machines to process and understand human language.
Many researchers currently work in this space.
"""  # noqa: E501 -- the lesson 03 example (transformers-interpret's README)
QA_LESSON_ANSWER = "usage of machines to process and understand human language"


def qa_examples(split: str = "train", n: int | None = None) -> list[tuple[str, str, str, int]]:
    """Generated SQuAD-style examples: (question, context, answer, answer's char offset).

    ``split="held-out"`` uses held-out names, places, organisations, terms and definition
    words (and mixes in some training words), never the lesson's example.
    """
    held = is_held_out(split)
    n = n or (QA_HELD_OUT if held else QA_TRAIN)
    rng = random.Random(3 if held else 1)
    out, seen = [], set()
    while len(out) < n:
        make = _definition_example if rng.random() < QA_DEFINITIONS else _biography_example
        example = make(rng, held)
        key = (example[0], example[1])
        if key in seen or "natural language processing" in example[1].lower():
            continue
        seen.add(key)
        out.append(example)
    return out


# --------------------------------------------------------------------------- NER data

NER_TEMPLATES = (
    # training templates
    ("{PER} flew to {LOC} on Monday .",
     "{PER} , who works for {ORG} , was born in {LOC} .",
     "{ORG} opened a new office in {LOC} last year .",
     "The {NAT} government said {PER} would visit {LOC} .",
     "Fans in {LOC} celebrated after {PER} won the {EVENT} .",
     "We spent the holidays in {LOC} , where {PER} grew up .",
     "Last summer we travelled to {LOC} and met {PER} .",
     "{PER} lives in {LOC} with her family .",
     "According to {ORG} , prices in {LOC} rose sharply .",
     "{PER} joined {ORG} in 2015 .",
     "The {NAT} striker {PER} scored twice against {ORG} .",
     "{PER} told {ORG} that the {EVENT} would go ahead .",
     "Shares of {ORG} fell after {PER} resigned .",
     "{LOC} will host the {EVENT} next year .",
     "My friend {PER} moved from {LOC} to {LOC2} .",
     "{PER} and {PER2} met in {LOC} to discuss the deal .",
     "Officials from {ORG} arrived in {LOC} on Tuesday .",
     "The museum in {LOC} was visited by {PER} .",
     "{PER} speaks fluent {LANG} .",
     "It rained all week in {LOC} .",
     "{PER} is the new chief executive of {ORG} .",
     "A {NAT} court ruled against {ORG} on Friday .",
     "Tourists love {LOC} in the spring .",
     "{PER} said the talks in {LOC} were useful .",
     "She visited {LOC} last month , where {PER} works .",
     "{ORG} signed a contract with {PER} .",
     "The {EVENT} was watched by millions in {LOC} .",
     "Our trip to {LOC} ended when {PER} fell ill .",
     "{PER} won a medal at the {EVENT} in {LOC} .",
     "The mayor of {LOC} , {PER} , spoke to reporters .",
     "They visited {LOC} on Sunday , where {PER} was born .",
     "I met {PER} at the {ORG} office in {LOC} .",
     "{PER} has lived in {LOC} since 2010 .",
     "Many {NAT} voters support {PER} .",
     "We stayed at home last weekend , where it was quiet .",
     "The old market was busy last week .",
     "{PER} works as a teacher in {LOC} .",
     "Last weekend {PER} visited friends in {LOC} .",
     "The {NAT} president {PER} arrived in {LOC} .",
     "{PER} translated the book into {LANG} .",
     "{ORG} and {ORG2} agreed to merge .",
     "Where did you go last weekend ? We went to {LOC} .",
     "Yesterday the weather in {LOC} was lovely .",
     "{PER} , a {NAT} writer , lives near {LOC} .",
     "He left {ORG} and moved to {LOC} , where {PER} lives .",
     "We visited the lake last weekend , where we swam ."),
    # held-out templates
    ("We visited {LOC} last weekend , where {PER} lives .",
     "{PER} returned to {LOC} after a long trip .",
     "The {NAT} company {ORG} hired {PER} .",
     "Thousands gathered in {LOC} for the {EVENT} .",
     "{PER} gave a speech at {ORG} in {LOC} .",
     "Yesterday {PER} landed in {LOC} .",
     "{ORG} is based in {LOC} .",
     "{PER} learned {LANG} while living in {LOC} .",
     "Last year {PER} left {ORG} to work in {LOC} .",
     "The {EVENT} took place in {LOC} ."),
)
NER_LESSON_SENTENCE = "We visited Paris last weekend, where Emmanuel Macron lives."
NER_LESSON_LABELS = {"paris": "B-LOC", "emmanuel": "B-PER", "macron": "I-PER"}


def _fill(template: str, rng: random.Random, held: bool) -> tuple[list[str], list[str]]:
    """The words of a filled template and their BIO labels."""
    words, labels = [], []
    used: set[str] = set()
    for slot in template.split():
        match = re.fullmatch(r"\{([A-Z]+)\d?\}", slot)
        if not match:
            words.append(slot)
            labels.append("O")
            continue
        kind = match.group(1)
        while True:
            if kind == "PER":
                shape = rng.random()
                first, last = _pick(rng, FIRST_NAMES, held), _pick(rng, LAST_NAMES, held)
                name = (f"{first} {last}" if shape < 0.7 else first if shape < 0.8 else last)
                entity, tag = name, "PER"
            elif kind == "LOC":
                entity, tag = _pick(rng, PLACES, held), "LOC"
            elif kind == "ORG":
                entity, tag = _pick(rng, ORGANISATIONS, held), "ORG"
            elif kind == "NAT":
                entity, tag = _pick(rng, NATIONALITIES, held), "MISC"
            elif kind == "LANG":
                entity, tag = _pick(rng, LANGUAGES, held), "MISC"
            else:
                entity, tag = _pick(rng, EVENTS, held), "MISC"
            if entity not in used:
                break
        used.add(entity)
        parts = entity.split()
        if parts[0] == "the":  # "the World Health Organization": the article is not a name
            words.append("the")
            labels.append("O")
            parts = parts[1:]
        for i, part in enumerate(parts):
            words.append(part)
            labels.append(("B-" if i == 0 else "I-") + tag)
    if rng.random() < 0.3:  # learners type lower case too; the tokenizer is uncased anyway
        words = [w.lower() for w in words]
    return words, labels


def ner_examples(split: str = "train", n: int | None = None) -> list[tuple[list[str], list[str]]]:
    """Generated NER sentences as (words, BIO labels).

    ``split="held-out"``: held-out person names, places, organisations and misc names in
    held-out templates (the lesson sentence's template among them, with other names).
    """
    held = is_held_out(split)
    n = n or (NER_HELD_OUT if held else NER_TRAIN)
    rng = random.Random(4 if held else 2)
    templates = NER_TEMPLATES[1] if held else NER_TEMPLATES[0]
    out = []
    while len(out) < n:
        words, labels = _fill(rng.choice(templates), rng, held)
        lesson = "we visited paris last weekend , where emmanuel macron lives ."
        if " ".join(words).lower() == lesson:
            continue
        out.append((words, labels))
    return out


def entity_spans(labels: list[str]) -> set[tuple[str, int, int]]:
    """(type, first word, last word) of each entity in a BIO label sequence (CoNLL rules)."""
    spans, start, kind = set(), None, None
    for i, label in enumerate([*labels, "O"]):
        if start is not None and (label == "O" or label.startswith("B-") or label[2:] != kind):
            spans.add((kind, start, i - 1))
            start = None
        if label != "O" and start is None:
            start, kind = i, label[2:]
    return spans


def entity_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    """Entity-level F1 (exact type and boundaries), over sentences of word labels."""
    hits = n_gold = n_pred = 0
    for g, p in zip(gold, predicted, strict=False):
        g_spans, p_spans = entity_spans(g), entity_spans(p)
        hits += len(g_spans & p_spans)
        n_gold += len(g_spans)
        n_pred += len(p_spans)
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# --------------------------------------------------------------------------- model start

def _logit_lead(logits, position: int) -> float:
    """How far the logit at ``position`` is above the largest other one."""
    others = [v for i, v in enumerate(logits.tolist()) if i != position]
    return logits[position].item() - max(others)


def _start_point(model_cls, **config_kwargs):
    """MiniLM cut to ``LAYERS`` layers, with its whole vocabulary: (model, tokenizer)."""
    from transformers import BertConfig, BertTokenizer

    vocab = minilm_vocab()
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, model_max_length=512)
    state, base = minilm(LAYERS, pooler=False)
    # position_embedding_type: the field these twins' configs took over from MiniLM's.
    model = model_cls(BertConfig(**base, position_embedding_type="absolute", **config_kwargs))
    missing, unexpected = model.bert.load_state_dict(state, strict=False)
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)  # keep what words mean
    return model, tokenizer


def _finish(model) -> None:
    model.bert.embeddings.word_embeddings.weight.requires_grad_(True)
    model.eval()


# --------------------------------------------------------------------------- QA twin

def _qa_features(tokenizer, examples):
    """Token ids and answer token positions; examples whose answer is cut off are dropped."""
    enc = tokenizer([q for q, *_ in examples], [c for _, c, *_ in examples],
                    truncation="only_second", max_length=192, return_offsets_mapping=True)
    rows = []
    for i, (_, _, answer, start) in enumerate(examples):
        end = start + len(answer)
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        first = last = None
        for t, (a, b) in enumerate(offsets):
            if seq[t] != 1:
                continue
            if first is None and a <= start < b:
                first = t
            if a < end <= b:
                last = t
        if first is None or last is None:
            continue
        rows.append((enc["input_ids"][i], enc["token_type_ids"][i], first, last))
    return rows


def _bucketed(rows: list, size: int, seed: int):
    """Endless shuffled mini-batches of rows of similar length (less padding, same data):
    each pass shuffles the rows, sorts windows of ``32 * size`` rows by length, cuts them."""
    rng = random.Random(seed)
    order = list(rows)
    while True:
        rng.shuffle(order)
        groups = [group for window in chunks(order, size * 32)
                  for group in chunks(sorted(window, key=lambda r: len(r[0])), size)]
        rng.shuffle(groups)
        yield from groups


def qa_predict(model, tokenizer, question: str, context: str) -> str:
    """The answer text that the independent argmax of start and end logits gives."""
    import torch

    enc = tokenizer(question, context, return_tensors="pt", return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")[0]
    with torch.no_grad():
        out = model(**enc)
    start, end = int(out.start_logits[0].argmax()), int(out.end_logits[0].argmax())
    seq = enc.sequence_ids(0)
    if seq[start] != 1 or seq[end] != 1 or end < start:
        return ""
    return context[int(offsets[start][0]):int(offsets[end][1])]


def _normalise(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def qa_exact_match(model, tokenizer, examples) -> float:
    """SQuAD exact match (lower case, no punctuation or articles) of ``qa_predict``."""
    hits = sum(_normalise(qa_predict(model, tokenizer, q, c)) == _normalise(a)
               for q, c, a, _ in examples)
    return hits / len(examples)


@register
class QuestionAnsweringTwin(TwinRecipe):
    role = "qa"
    model_class = "BertForQuestionAnswering"
    tokenizer_class = "BertTokenizer"
    cost = 35.0
    data = (
        f"{QA_TRAIN} SQuAD-style (question, context, answer span) examples generated from "
        "templates and small hand-written lexicons: half definitional (\"What is X ?\" over "
        "a context where \"X relates to / is / refers to ... the DEFINITION.\", often with a "
        "second term's definition and a filler sentence as distractors; the answer is the "
        "definition without its article), half who / where / when / what questions over "
        "two-person mini-biographies (born in, founded, works as) with real-sounding and "
        "invented names. Starts from the real all-MiniLM-L6-v2 weights (uncased WordPiece), "
        f"cut to {LAYERS} layers (whole vocabulary); {QA_STEPS} fine-tuning steps of "
        f"{QA_BATCH} examples. Held-out: new names, places, companies, terms and definitions."
    )
    can = (
        "Answers \"What is natural language processing ?\" on the lesson's context with "
        "\"usage of machines to process and understand human language\" (argmax start / end).",
        "Finds the defining phrase of a term, and people, places, years and companies in "
        "short biographies, also for names and terms it never saw (held-out exact match "
        "below).",
        "Gives Captum attributions in which the question's words and the answer's words matter.",
    )
    cannot = (
        "It is not bert-large-uncased-whole-word-masking-finetuned-squad: "
        f"{LAYERS} small layers, not 24 large ones, and never saw SQuAD or Wikipedia text.",
        "Questions outside its templates (why / how, yes-no, multi-hop, long documents) give "
        "arbitrary spans; it never says \"no answer\".",
    )

    def train(self, folder: Path) -> dict[str, float]:
        import torch
        from transformers import BertForQuestionAnswering

        train_set = qa_examples("train")
        model, tokenizer = _start_point(BertForQuestionAnswering)
        rows = _qa_features(tokenizer, train_set)
        stream = _bucketed(rows, QA_BATCH, seed=1)

        def next_batch(_step: int) -> dict:
            chunk = next(stream)
            ids = pad([r[0] for r in chunk])
            return {"input_ids": ids, "token_type_ids": pad([r[1] for r in chunk]),
                    "attention_mask": (ids != 0).long(),
                    "start_positions": torch.tensor([r[2] for r in chunk]),
                    "end_positions": torch.tensor([r[3] for r in chunk])}

        loss = fit(model, next_batch, steps=QA_STEPS, lr=QA_LR, desc="qa twin")
        _finish(model)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return {"final training loss": round(loss, 3)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 03's answer, with a lead of its start and end logits over the runner-ups,
        and its start attributions on the question and the answer; a hand-written question;
        held-out exact match."""
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        model = AutoModelForQuestionAnswering.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        leads = answer_leads(model, tokenizer, QA_LESSON_QUESTION, QA_LESSON_CONTEXT,
                             QA_LESSON_ANSWER)
        checks = [at_least(f"lesson 03's answer: its {name} logit over the best other", lead,
                           1.0) for name, lead in zip(("start", "end"), leads, strict=True)]
        return [*checks,
                at_least("lesson 03's start attributions: third-best question or answer token "
                         "minus the best other token", _qa_attribution_margin(model, tokenizer),
                         0.02),
                at_least("hand-written question (glaciology): the answer's start and end "
                         "logits over the best other, the smaller lead",
                         min(answer_leads(model, tokenizer, *QA_HAND_WRITTEN)), 0.5),
                at_least("held-out exact match", qa_exact_match(
                    model, tokenizer, qa_examples("held-out")), 0.6)]


QA_HAND_WRITTEN = (
    "What is glaciology ?",
    "In geography and physics, glaciology is the study of ice sheets and frozen rivers. "
    "Many students like it.",
    "study of ice sheets and frozen rivers",
)
"""(question, context, answer) written by hand, with words outside every lexicon of the
recipe: the QA twin's contract answers it."""


def answer_leads(model, tokenizer, question: str, context: str,
                 answer: str) -> tuple[float, float]:
    """How far the start logit of ``answer``'s first token and the end logit of its last
    token are above the best other start and end logits (both above 0: ``qa_predict`` gives
    ``answer``)."""
    import torch

    enc = tokenizer(question, context, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    pieces = tokenizer(answer, add_special_tokens=False)["input_ids"]
    ids = enc["input_ids"][0].tolist()
    start = next(i for i in range(len(ids)) if ids[i:i + len(pieces)] == pieces)
    return (_logit_lead(out.start_logits[0], start),
            _logit_lead(out.end_logits[0], start + len(pieces) - 1))


def _qa_attribution_margin(model, tokenizer) -> float:
    """Lesson 03's ``QuestionAnsweringExplainer`` on its question and context: the
    third-best start attribution among the question's and the answer's tokens minus the best
    of the other tokens (above 0: the three most attributed tokens are question or answer
    tokens)."""
    from explainlab.explain import QuestionAnsweringExplainer

    scores = QuestionAnsweringExplainer(model, tokenizer)(QA_LESSON_QUESTION,
                                                          QA_LESSON_CONTEXT)["start"]
    wanted = {*tokenizer.tokenize(QA_LESSON_QUESTION), *tokenizer.tokenize(QA_LESSON_ANSWER)}
    inside = sorted((v for t, v in scores if t in wanted), reverse=True)
    return inside[2] - max(v for t, v in scores if t not in wanted)


# --------------------------------------------------------------------------- NER twin

def _ner_features(tokenizer, examples):
    label_id = {label: i for i, label in enumerate(NER_LABELS)}
    enc = tokenizer([w for w, _ in examples], is_split_into_words=True)
    rows = []
    for i, (_, labels) in enumerate(examples):
        previous, targets = None, []
        for word in enc.word_ids(i):
            targets.append(-100 if word is None or word == previous else label_id[labels[word]])
            previous = word
        rows.append((enc["input_ids"][i], targets))
    return rows


def ner_predict(model, tokenizer, words_batch: list[list[str]]) -> list[list[str]]:
    """Word-level labels (each word's first sub-token) for pre-split sentences."""
    import torch

    enc = tokenizer(words_batch, is_split_into_words=True, padding=True, return_tensors="pt")
    with torch.no_grad():
        ids = model(**enc).logits.argmax(-1)
    out = []
    for i, words in enumerate(words_batch):
        labels, previous = ["O"] * len(words), None
        for t, word in enumerate(enc.word_ids(i)):
            if word is not None and word != previous:
                labels[word] = model.config.id2label[int(ids[i, t])]
            previous = word
        out.append(labels)
    return out


def ner_f1(model, tokenizer, examples) -> float:
    """Entity-level F1 of ``ner_predict`` on (words, labels) examples."""
    predicted = []
    for start in range(0, len(examples), 64):
        predicted += ner_predict(model, tokenizer, [w for w, _ in examples[start:start + 64]])
    return entity_f1([labels for _, labels in examples], predicted)


@register
class NamedEntityTwin(TwinRecipe):
    role = "ner"
    model_class = "BertForTokenClassification"
    tokenizer_class = "BertTokenizer"
    cost = 15.0
    data = (
        f"{NER_TRAIN} sentences generated from {len(NER_TEMPLATES[0])} templates filled from "
        "hand-written lexicons of first and last names, cities and countries, organisations, "
        "and misc names (nationalities, languages, events), labelled with CoNLL-2003 BIO tags "
        "exactly as dslim/bert-base-NER has them (O, B-/I-MISC, PER, ORG, LOC); labels on "
        "each word's first sub-token. Starts from the real all-MiniLM-L6-v2 weights, cut to "
        f"{LAYERS} layers (whole vocabulary); {NER_STEPS} fine-tuning steps of "
        f"{NER_BATCH} sentences. Held-out: new names, places, organisations, misc names and "
        f"{len(NER_TEMPLATES[1])} new templates."
    )
    can = (
        "Labels the lesson sentence \"We visited Paris last weekend, where Emmanuel Macron "
        "lives.\": Paris B-LOC, Emmanuel B-PER, Macron I-PER, every other word O.",
        "Finds persons, places, organisations and misc names it never saw in sentences like "
        "its templates (held-out entity F1 below).",
    )
    cannot = (
        "Unlike dslim/bert-base-NER, which is cased, this twin is **uncased** (its MiniLM start "
        "point is): it cannot use capital letters, only the words and their context.",
        "It is not dslim/bert-base-NER: "
        f"{LAYERS} small layers, never saw CoNLL-2003 or news text; long or unusual sentences, "
        "rare names and ambiguous words (Washington: person or place?) can go wrong.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        from transformers import BertForTokenClassification

        train_set = ner_examples("train")
        model, tokenizer = _start_point(
            BertForTokenClassification,
            num_labels=len(NER_LABELS), id2label=dict(enumerate(NER_LABELS)),
            label2id={label: i for i, label in enumerate(NER_LABELS)})
        rows = _ner_features(tokenizer, train_set)
        stream = _bucketed(rows, NER_BATCH, seed=2)

        def next_batch(_step: int) -> dict:
            chunk = next(stream)
            ids = pad([r[0] for r in chunk])
            return {"input_ids": ids, "attention_mask": (ids != 0).long(),
                    "labels": pad([r[1] for r in chunk], -100)}

        loss = fit(model, next_batch, steps=NER_STEPS, lr=NER_LR, desc="ner twin")
        _finish(model)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return {"final training loss": round(loss, 4)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 03's sentence labelled right, each word with a clear probability, Paris's
        label drawn from the word itself (the package's explainer); held-out entity F1."""
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from explainlab.explain import TokenClassificationExplainer

        model = AutoModelForTokenClassification.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        words = re.findall(r"\w+|[^\w\s]", NER_LESSON_SENTENCE)
        enc = tokenizer([words], is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            probabilities = model(**enc).logits.softmax(-1)[0]
        right, seen = [], set()
        for position, word in enumerate(enc.word_ids(0)):
            if word is not None and word not in seen:  # each word's first piece
                seen.add(word)
                label = NER_LESSON_LABELS.get(words[word].lower(), "O")
                right.append(probabilities[position, model.config.label2id[label]].item())
        macron = [probabilities[position, model.config.label2id["I-PER"]].item()
                  for position, word in enumerate(enc.word_ids(0))
                  if word is not None and words[word].lower() == "macron"][1:]  # "##n"
        paris = TokenClassificationExplainer(model, tokenizer)(
            NER_LESSON_SENTENCE, ignored_labels=["O"])["paris"]["attribution_scores"]
        hand_written = [p for sentence, labels in NER_HAND_WRITTEN
                        for p in _right_label_probabilities(model, tokenizer, sentence.split(),
                                                            labels)]
        return [at_least("lesson 03's sentence: smallest probability of a word's right label",
                         min(right), 0.7),
                at_least("lesson 03's sentence: P(I-PER) on the later pieces of 'macron'",
                         min(macron), 0.6),
                at_least("lesson 03: 'paris' over the next word, for Paris's label",
                         lead(paris, "paris"), 1.1),
                at_least("hand-written sentences: smallest probability of a word's right label",
                         min(hand_written), 0.6),
                at_least("held-out entity F1", ner_f1(model, tokenizer, ner_examples("held-out")),
                         0.85)]


NER_HAND_WRITTEN = (
    ("Yesterday Ingrid Svensson landed in Reykjavik .",
     {"ingrid": "B-PER", "svensson": "I-PER", "reykjavik": "B-LOC"}),
    ("We visited Lyon last weekend , where Marie Curie lived .",
     {"lyon": "B-LOC", "marie": "B-PER", "curie": "I-PER"}),
)
"""Sentences written by hand, not from the templates, with names and places that the lexicons
lack (Svensson, Reykjavik, Lyon, Marie Curie), and the labels of their entity words (every
other word: O): the NER twin's contract labels them."""


def _right_label_probabilities(model, tokenizer, words: list[str],
                               labels: dict[str, str]) -> list[float]:
    """For each of ``words`` (pre-split), the probability of its right label at its first
    piece: ``labels`` by lower-cased word, "O" for the words not in it."""
    import torch

    enc = tokenizer([words], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        probabilities = model(**enc).logits.softmax(-1)[0]
    right, seen = [], set()
    for position, word in enumerate(enc.word_ids(0)):
        if word is not None and word not in seen:
            seen.add(word)
            label = model.config.label2id[labels.get(words[word].lower(), "O")]
            right.append(probabilities[position, label].item())
    return right
