"""Generated data for the ``sst2`` and ``cross-encoder`` twins (recipes in ``bert_tasks``).

``sentiment_examples(split)``: short reviews from templates and a sentiment lexicon with
negation, intensifiers, downtoners and contrast ("but"). ``relevance_examples(split)``:
queries about cities, countries, people and things, each with the passage that answers it,
two near misses and an unrelated passage. ``split="held-out"`` draws on held-out words,
entities, phrasings and templates, so tests can check the twins on inputs they never saw.
"""

from __future__ import annotations

import random
import re

from ._train import is_held_out, split_words

SST2_TRAIN = 4000
SST2_HELD_OUT = 600
CE_TRAIN_QUERIES = 1500
CE_HELD_OUT_QUERIES = 200

# The lesson 03 examples (transformers-interpret's README).
SST2_LESSON = "I love you, I like you"
SST2_LESSON_MIXED = "I love you, I like you, I also kinda dislike you"  # with class_name="NEGATIVE"
CE_LESSON_QUERY = "How many people live in Berlin?"
CE_LESSON_PASSAGE = ("Berlin has a population of 3,520,031 registered inhabitants in an area of "
                     "891.82 square kilometers.")
CE_LESSON_UNRELATED = "The recipe needs two eggs, a cup of milk and some flour."
SST2_EXERCISE = "a dreadful, boring mess"  # lesson 03's first exercise, predicted NEGATIVE


# --------------------------------------------------------------------------- sentiment data
# A word's number is its strength: 1 mild, 1.5 clear, 2 strong. Training | held-out.

POSITIVE_ADJECTIVES = split_words("""
good:1, great:1.5, excellent:2, wonderful:2, amazing:2, brilliant:2, fantastic:2, enjoyable:1,
beautiful:1.5, delightful:1.5, charming:1, fun:1, lovely:1.5, moving:1, clever:1, funny:1,
perfect:2, nice:1, pleasant:1, impressive:1.5, gripping:1.5, stunning:2, entertaining:1,
touching:1, fresh:1, solid:1, smart:1, sweet:1, exciting:1.5, memorable:1.5, inspiring:1.5
| superb:2, terrific:2, marvelous:2, outstanding:2, magnificent:2, splendid:2, engaging:1,
heartwarming:1.5, remarkable:1.5, fabulous:2, awesome:2, captivating:1.5, witty:1, elegant:1
""")
NEGATIVE_ADJECTIVES = split_words("""
bad:1, terrible:2, awful:2, boring:1.5, dull:1, horrible:2, poor:1, weak:1, stupid:1.5,
annoying:1, disappointing:1.5, ugly:1, painful:1.5, tedious:1.5, bland:1, pointless:1.5,
predictable:1, mediocre:1, lame:1, silly:1, messy:1, forgettable:1, slow:1, unfunny:1,
confusing:1, sad:1, cheap:1.5, worthless:2
| dreadful:2, atrocious:2, abysmal:2, lousy:1.5, tiresome:1.5, unbearable:2, clumsy:1,
pathetic:2, dismal:1.5, insipid:1.5, shoddy:1.5, sloppy:1, miserable:1.5, hideous:2
""")
POSITIVE_VERBS = split_words("""
love/loved:2, like/liked:1, enjoy/enjoyed:1, adore/adored:2, admire/admired:1,
appreciate/appreciated:1
| cherish/cherished:1.5, relish/relished:1.5, savor/savored:1.5
""")
NEGATIVE_VERBS = split_words("""
hate/hated:2, dislike/disliked:1, despise/despised:2, detest/detested:2
| loathe/loathed:2, resent/resented:1, abhor/abhorred:2
""")
POSITIVE_NOUNS = split_words("masterpiece:2, gem:1.5, delight:1.5, triumph:2, joy:1.5, treat:1 "
                             "| marvel:1.5, winner:1.5, blast:1.5")
NEGATIVE_NOUNS = split_words("mess:1.5, disaster:2, failure:1.5, waste of time:2, bore:1, "
                             "letdown:1.5 | fiasco:2, catastrophe:2, flop:1.5, shambles:1.5")
NEUTRAL_NOUNS = split_words("film, movie, story, show, book, experience, performance, ride, "
                            "evening, album, meal, debut, sequel "
                            "| picture, novel, play, series, concert")
SUBJECTS = split_words("""
the film, this movie, the plot, the acting, the ending, the cast, the script, the dialogue,
the story, the soundtrack, the book, the show, the food, the service, the music, it, this,
the performance, the direction, the jokes*, the songs*, the actors*, the effects*, the scenes*
| the cinematography, the screenplay, the finale, the characters*, the visuals*, the novel
""")  # * plural
OBJECTS = split_words("""
you, it, this, this film, this movie, the book, the show, the ending, the songs, her, him,
them, the food, every minute, this place, the story, that album
| the characters, the novel, this restaurant, the sequel
""")
NEUTRAL_CLAUSES = split_words("""
i saw it last week, i watched it with my sister, we went on a sunday, i read it in two days,
it came out last year, it is two hours long, i went with friends, we saw it at the cinema,
i watched it at home, my brother picked it, it was my first time, i know you, i see you,
i met you last year, i told you, i heard about it on the radio, you know that, i called you
| i finally saw it yesterday, we watched it on a plane, it is based on a book, i asked you
""")
VERB_SUBJECTS = split_words("""
we, my wife, my kids, everyone, my friends, the audience, you will, you'll, critics
| my husband, the whole family
""")  # besides "i": so that the verb, not the "i" before it, carries the sentiment
INTENSIFIERS = split_words("very, really, so, extremely, truly, incredibly, absolutely, totally "
                           "| remarkably, exceptionally, genuinely")
DOWNTONERS = split_words("kinda, somewhat, a bit, slightly, sort of, a little | mildly, fairly")
VERB_ADVERBS = split_words("really:1.5, truly:1.5, absolutely:1.5, kinda:0.5, sort of:0.5, "
                           "somewhat:0.5, also:1, honestly:1, just:1 | genuinely:1.5, mildly:0.5")


def _weighted(words: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    return tuple((w.split(":")[0], float(w.split(":")[1])) for w in words)


def _lexicon(table, held: bool, rng: random.Random, share: float = 0.5):
    """A training word, or (held-out) a held-out word with probability ``share``."""
    train, held_out = table
    if held and rng.random() < share:
        return rng.choice(held_out), True
    return rng.choice(train), False


def _degree(rng: random.Random, held: bool, weak: bool) -> tuple[str, float, bool]:
    """A degree word before an adjective ("very", "kinda", or none) and its factor."""
    roll = 1.0 if weak else rng.random()
    if roll < 0.55:
        return "", 1.0, False
    table, factor = (INTENSIFIERS, 1.5) if roll < 0.85 else (DOWNTONERS, 0.5)
    word, new = _lexicon(table, held, rng, 0.3)
    return word + " ", factor, new


def _verb_adverb(rng: random.Random, held: bool, weak: bool) -> tuple[str, float, bool]:
    """An adverb before a verb ("really", "also kinda", or none) and its factor."""
    if weak:
        word = rng.choice(("kinda", "sort of", "somewhat", "also kinda", "also sort of",
                           "mildly" if held else "kinda"))
        return word + " ", 0.5, word == "mildly"
    if rng.random() < 0.5:
        return "", 1.0, False
    entry, new = _lexicon(VERB_ADVERBS, held, rng, 0.3)
    word, factor = _weighted((entry,))[0]
    return word + " ", factor, new


def _adjective(rng: random.Random, held: bool, polarity: int) -> tuple[str, float, bool]:
    table = POSITIVE_ADJECTIVES if polarity > 0 else NEGATIVE_ADJECTIVES
    entry, new = _lexicon(table, held, rng)
    word, strength = _weighted((entry,))[0]
    return word, polarity * strength, new


def _be(subject: str, past: bool) -> str:
    plural = subject.endswith("*")
    return ("were" if plural else "was") if past else ("are" if plural else "is")


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _clause(rng: random.Random, held: bool, polarity: int, weak: bool = False
            ) -> tuple[str, float, bool]:
    """One clause of ``polarity`` (+1 / -1): (text, sentiment score, whether it uses a
    held-out word or template). ``weak``: toned down ("kinda", "a bit")."""
    held_template = held and rng.random() < 0.35
    if weak:
        kinds = ("found", "turned", "felt") if held_template else ("be", "verb", "verb", "np")
    else:
        kinds = (("found", "turned", "felt", "pair") if held_template else
                 ("be", "be", "not", "verb", "verb", "dont", "np", "noun"))
    kind = rng.choice(kinds)
    subject, new_s = _lexicon(SUBJECTS, held, rng, 0.3)
    past = rng.random() < 0.7
    be = _be(subject, past)
    subject = subject.rstrip("*")
    degree, factor, new_d = _degree(rng, held, weak)
    new = held_template or new_s or new_d
    if kind in ("be", "found", "turned", "felt"):
        adjective, score, new_a = _adjective(rng, held, polarity)
        text = {"be": f"{subject} {be} {degree}{adjective}",
                "found": f"i found {subject} {degree}{adjective}",
                "turned": f"{subject} turned out to be {degree}{adjective}",
                "felt": f"{subject} felt {degree}{adjective}"}[kind]
        return text, score * factor, new or new_a
    if kind == "not":  # "not good" is clearly negative, "not bad" only mildly positive
        adjective, score, new_a = _adjective(rng, held, -polarity)
        negated = rng.choice((f"{be} not", f"{be}n't", f"{be} never"))
        text = f"{subject} {negated} {adjective}"
        return text, -score * (0.9 if score > 0 else 0.4), new or new_a
    if kind == "dont" and polarity > 0:  # "I didn't hate it" is no clear praise
        kind = "verb"
    if kind in ("verb", "dont"):
        table = POSITIVE_VERBS if (polarity > 0) == (kind == "verb") else NEGATIVE_VERBS
        entry, new_v = _lexicon(table, held, rng)
        forms, strength = _weighted((entry,))[0]
        present, past_form = forms.split("/")
        obj, new_o = _lexicon(OBJECTS, held, rng, 0.3)
        roll = rng.random()
        who, new_w = (("i", False) if roll < 0.45 else ("", False) if roll < 0.6 else
                      _lexicon(VERB_SUBJECTS, held, rng, 0.3))  # "" as in "Loved it!"
        new = held_template or new_v or new_o or new_w
        future = who.startswith("you")
        past = past and not future or who in ("everyone", "my wife", "my husband",
                                              "the audience", "the whole family")
        if kind == "verb":
            adverb, adv_factor, new_b = _verb_adverb(rng, held, weak)
            if future:
                text = f"{who} {adverb}{present} {obj}".replace("you'll also", "you'll")
            else:
                text = f"{who} {adverb}{past_form if past else present} {obj}".strip()
            return text, polarity * strength * adv_factor, new or new_b
        if future:
            negated = rng.choice(("won't", "will not", "will never"))
            return f"you {negated} {present} {obj}", -strength * 0.9, new
        negated = rng.choice(("didn't", "did not", "never") if past else
                             ("don't", "do not", "didn't", "did not", "never"))
        verb = past_form if negated == "never" and past else present
        return f"{who or 'i'} {negated} {verb} {obj}", -strength * 0.9, new
    if kind in ("np", "pair"):
        noun, new_n = _lexicon(NEUTRAL_NOUNS, held, rng, 0.3)
        adjective, score, new_a = _adjective(rng, held, polarity)
        if kind == "pair":  # "a dreadful, boring mess"
            second, score2, _ = _adjective(rng, held, polarity)
            if second == adjective:
                return _clause(rng, held, polarity, weak)
            table = POSITIVE_NOUNS if polarity > 0 else NEGATIVE_NOUNS
            if rng.random() < 0.5:
                entry, _ = _lexicon(table, held, rng)
                noun, strength = _weighted((entry,))[0]
                score2 += polarity * strength
            return f"{_a(adjective)} {adjective}, {second} {noun}", score + score2, True
        if degree.strip() in ("so", "a bit", "a little"):  # not after an article
            degree, factor = ("rather ", 0.5) if weak else ("", 1.0)
        article = rng.choice(("a", "a", "what", "such", "quite"))
        article = f"{'' if article == 'a' else article + ' '}{_a(degree or adjective)}"
        text = f"{article} {degree}{adjective} {noun}"
        return text, score * factor, new or new_n or new_a
    table = POSITIVE_NOUNS if polarity > 0 else NEGATIVE_NOUNS
    entry, new_n = _lexicon(table, held, rng)
    noun, strength = _weighted((entry,))[0]
    lead = rng.choice(("a", "a real", "a total", "an absolute", f"{subject} {be} a",
                       f"{subject} {be} an absolute"))
    if lead == "a" and noun[0] in "aeiou":
        lead = "an"
    return f"{lead} {noun}", polarity * strength, new or new_n


def _review(rng: random.Random, held: bool) -> tuple[str, float, bool]:
    """A review of one to three clauses and its score (the sum of the clauses' scores).

    After "but" the clause before weighs less (x0.4) and the next one is mostly of the
    other polarity; without "but", a change of polarity is toned down ("I love you,
    I like you, I also kinda dislike you").
    """
    n = rng.choices((1, 2, 3), weights=(4, 4, 2))[0]
    polarity = rng.choice((-1, 1))
    text, score, new = _clause(rng, held, polarity)
    for _ in range(n - 1):
        joiner = rng.choice((", ", " and ", ". ", ", but ", " but ", "; ", ", "))
        weak = False
        if "but" in joiner:
            polarity = -polarity if rng.random() < 0.9 else polarity
            score *= 0.4
        elif rng.random() < 0.2:
            polarity, weak = -polarity, True
        clause, s, n_new = _clause(rng, held, polarity, weak)
        text, score, new = f"{text}{joiner}{clause}", score + s, new or n_new
    if rng.random() < 0.3:  # a clause without sentiment: "i" and "you" are no cue
        neutral, n_new = _lexicon(NEUTRAL_CLAUSES, held, rng, 0.3)
        joiner = rng.choice((", ", " and ", ". ", "; "))
        text, new = (f"{neutral}{joiner}{text}" if rng.random() < 0.5 else
                     f"{text}{joiner}{neutral}"), new or n_new
    text += rng.choice(("", "", ".", "!", " ."))
    if rng.random() < 0.6:
        text = text[0].upper() + text[1:]
    text = re.sub(r"(?<=[.!] )([a-z])", lambda m: m.group(1).upper(), text)
    text = re.sub(r"\bi\b", "I", text) if rng.random() < 0.7 else text
    return text, score, new


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


_LESSON_SENTENCES = {_normal(SST2_LESSON), _normal(SST2_LESSON_MIXED)}


def sentiment_examples(split: str = "train", n: int | None = None,
                       *, scores: bool = False) -> list[tuple[str, int]]:
    """Generated reviews as (text, label), label 1 = POSITIVE, 0 = NEGATIVE; with
    ``scores=True`` as (text, score): the summed sentiment score, whose sign is the label.

    ``split="held-out"``: every review has a held-out sentiment word, subject, object,
    degree word or template ("I found X ...", "X turned out to be ...", "X felt ...",
    "a ADJ, ADJ NOUN"); reviews whose score is near zero are left out of both splits,
    the lesson's sentences never occur in either, and no held-out review is a training one.
    """
    held = is_held_out(split)
    n = n or (SST2_HELD_OUT if held else SST2_TRAIN)
    rng = random.Random(13 if held else 11)
    out, seen = [], {_normal(t) for t, _ in sentiment_examples("train")} if held else set()
    while len(out) < n:
        text, score, new = _review(rng, held)
        key = _normal(text)
        if abs(score) < 0.5 or key in seen or key in _LESSON_SENTENCES or (held and not new):
            continue
        seen.add(key)
        out.append((text, score if scores else int(score > 0)))
    return out


# Hand-written held-out reviews: sentiment words that no training review contains.
SST2_HELD_OUT_REVIEWS = (
    ("the film was superb", 1),
    ("a dreadful, boring mess", 0),
    ("What a terrific movie!", 1),
    ("The plot was tiresome.", 0),
    ("I cherish this book", 1),
    ("I loathe this film", 0),
    ("An outstanding, heartwarming picture.", 1),
    ("The screenplay was atrocious", 0),
    ("The cinematography turned out to be magnificent", 1),
    ("I found the characters pathetic", 0),
)


# --------------------------------------------------------------------------- relevance data

CITIES = split_words("""
Berlin/Germany, Paris/France, Madrid/Spain, Rome/Italy, Tokyo/Japan, Cairo/Egypt,
London/England, Moscow/Russia, Vienna/Austria, Lisbon/Portugal, Warsaw/Poland, Athens/Greece,
Dublin/Ireland, Oslo/Norway, Stockholm/Sweden, Prague/the Czech Republic, Budapest/Hungary,
Beijing/China, Seoul/South Korea, Ottawa/Canada, Nairobi/Kenya, Lima/Peru, Bangkok/Thailand,
Munich/Germany, Hamburg/Germany, Milan/Italy, Barcelona/Spain, Osaka/Japan,
Chicago/the United States, Toronto/Canada, Sydney/Australia, Mumbai/India, Shanghai/China,
Istanbul/Turkey, Marseille/France, Geneva/Switzerland, Manchester/England, Glasgow/Scotland
| Helsinki/Finland, Copenhagen/Denmark, Brussels/Belgium, Amsterdam/the Netherlands,
Zurich/Switzerland, Lyon/France, Seville/Spain, Naples/Italy, Kyoto/Japan,
Boston/the United States, Vancouver/Canada, Melbourne/Australia, Krakow/Poland, Porto/Portugal,
Hanoi/Vietnam, Santiago/Chile
""")
COUNTRIES = split_words("""
Germany/Berlin/German/euro, France/Paris/French/euro, Spain/Madrid/Spanish/euro,
Italy/Rome/Italian/euro, Japan/Tokyo/Japanese/yen, Russia/Moscow/Russian/ruble,
Poland/Warsaw/Polish/zloty, Greece/Athens/Greek/euro, Norway/Oslo/Norwegian/krone,
Sweden/Stockholm/Swedish/krona, Hungary/Budapest/Hungarian/forint, China/Beijing/Chinese/yuan,
Thailand/Bangkok/Thai/baht, Peru/Lima/Spanish/sol, Austria/Vienna/German/euro,
Portugal/Lisbon/Portuguese/euro, Egypt/Cairo/Arabic/pound
| Finland/Helsinki/Finnish/euro, Denmark/Copenhagen/Danish/krone,
the Netherlands/Amsterdam/Dutch/euro, Vietnam/Hanoi/Vietnamese/dong,
Turkey/Ankara/Turkish/lira, Brazil/Brasilia/Portuguese/real
""")
FIRST_NAMES = split_words("""
Anna, Peter, Maria, John, Sophie, David, Elena, Carlos, Yuki, Thomas, Fatima, Lucas, Sarah,
Ivan, Laura, Omar, Grace, Victor, Helen, Paul, Alice, George, Rosa, James, Karen
| Oliver, Chloe, Hannah, Felix, Nadia, Simon, Irene, Arjun
""")
LAST_NAMES = split_words("""
Smith, Garcia, Muller, Rossi, Dubois, Tanaka, Ivanov, Brown, Schmidt, Silva, Chen, Lopez,
Fischer, Novak, Jensen, Murphy, Walker, Costa, Park, Singh, Wilson, Taylor, Weber
| Bergman, Romano, Nowak, Larsen, Okafor, Haddad, Lindqvist, Morgan
""")
JOBS = split_words("teacher, doctor, nurse, lawyer, painter, writer, pilot, engineer, chef, "
                   "farmer, journalist, architect | dentist, singer, baker, sailor")
THINGS = (  # (name, what it is, what it is for): training | held-out
    (("volcano", "a mountain where melted rock from deep inside the earth comes out",
      "to study how the inside of the earth works"),
     ("glacier", "a huge, slow river of ice that forms high in the mountains",
      "to store fresh water for the summer"),
     ("violin", "a small string instrument played with a bow", "to play music"),
     ("telescope", "a tube with lenses that makes far away things look closer",
      "to look at the stars"),
     ("bicycle", "a vehicle with two wheels that you move with pedals",
      "to travel short distances"),
     ("vaccine", "a medicine that trains the body to fight a disease", "to prevent illness"),
     ("piano", "a large instrument with black and white keys", "to play music"),
     ("satellite", "a machine that circles the earth in space",
      "to send signals and take pictures"),
     ("thermometer", "a tool that measures how hot or cold something is",
      "to measure the temperature"),
     ("kettle", "a metal or plastic pot with a spout and a handle", "to boil water")),
    (("microscope", "an instrument that makes very small things look large",
      "to see cells and germs"),
     ("compass", "a tool with a needle that always points north", "to find the way"),
     ("lighthouse", "a tall tower with a bright light near the sea", "to warn ships at night"),
     ("harp", "a large instrument with many strings played with the fingers", "to play music")),
)
FAMOUS_FOR = ("its museums", "its old churches", "its parks", "its bridges", "its markets",
              "its food", "its music", "its festivals", "its harbour", "its castle", "its beaches",
              "its nightlife", "its universities")
WEATHER = ("cold winters and warm summers", "mild winters and hot, dry summers",
           "a lot of rain all year", "snowy winters and short summers",
           "hot and humid weather most of the year")

# Aspects: queries (training | held-out phrasings) and passages (training | held-out).
CITY_QUERIES = {
    "population": (("How many people live in {c}?", "What is the population of {c}?",
                    "population of {c}", "how many inhabitants does {c} have"),
                   ("How populous is {c}?", "What is the number of residents of {c}?")),
    "area": (("How large is {c}?", "What is the area of {c}?", "area of {c} in square km"),
             ("How many square kilometers does {c} cover?",)),
    "country": (("In which country is {c}?", "Where is {c}?", "{c} is in which country"),
                ("Which country is {c} located in?",)),
    "founded": (("When was {c} founded?", "How old is {c}?", "founding year of {c}"),
                ("In what year was {c} established?",)),
    "famous": (("What is {c} famous for?", "What can you see in {c}?", "sights in {c}"),
               ("What is {c} known for?",)),
    "weather": (("What is the weather like in {c}?", "climate of {c}", "Is {c} cold in winter?"),
                ("What kind of climate does {c} have?",)),
}
CITY_PASSAGES = {
    "population": (("{c} has a population of {n} registered inhabitants in an area of {a} "
                    "square kilometers.", "About {n} people live in {c}.",
                    "The population of {c} was {n} in {y}."),
                   ("{c} is home to roughly {n} residents.",)),
    "area": (("{c} covers an area of {a} square kilometers.",
              "The city of {c} spans {a} square kilometers of land."),
             ("With {a} square kilometers, {c} is a large city.",)),
    "country": (("{c} is a city in {k}.", "{c} lies in {k}, not far from the border."),
                ("{c} is one of the largest cities of {k}.",)),
    "founded": (("{c} was founded in {y}.", "The history of {c} goes back to {y}, when it was "
                 "founded."), ("{c} was established in the year {y}.",)),
    "famous": (("{c} is famous for {f} and {g}.", "Visitors to {c} come for {f}."),
               ("{c} is well known for {f}.",)),
    "weather": (("{c} has {w}.", "The climate of {c} brings {w}."),
                ("In {c} you can expect {w}.",)),
}
COUNTRY_QUERIES = {
    "capital": (("What is the capital of {k}?", "capital city of {k}",
                 "Which city is the capital of {k}?"), ("Where is the government of {k}?",)),
    "language": (("What language do people speak in {k}?", "official language of {k}",
                  "Which language is spoken in {k}?"), ("What do people in {k} speak?",)),
    "currency": (("What currency is used in {k}?", "money of {k}", "What is the currency of "
                  "{k}?"), ("How do you pay in {k}?",)),
}
COUNTRY_PASSAGES = {
    "capital": (("The capital of {k} is {c}.", "{c} is the capital and largest city of {k}."),
                ("{k} is governed from its capital, {c}.",)),
    "language": (("The official language of {k} is {l}.", "Most people in {k} speak {l}."),
                 ("In {k}, {l} is the language of schools and newspapers.",)),
    "currency": (("{k} uses the {m} as its currency.", "The currency of {k} is the {m}."),
                 ("In {k} people pay with the {m}.",)),
}
PERSON_QUERIES = {
    "born": (("When was {p} born?", "What year was {p} born?", "birthday of {p}"),
             ("How old is {p}?",)),
    "job": (("What does {p} do for a living?", "What is the job of {p}?", "{p} profession"),
            ("Where does {p} work?",)),
    "home": (("Where does {p} live?", "Which city does {p} live in?", "home town of {p}"),
             ("Where is {p} from?",)),
}
PERSON_PASSAGES = {
    "born": (("{p} was born in {y}.", "{p} was born on a cold morning in {y}."),
             ("The birth year of {p} is {y}.",)),
    "job": (("{p} works as a {j}.", "For many years {p} has worked as a {j}."),
            ("{p} earns a living as a {j}.",)),
    "home": (("{p} lives in {c} with a small dog.", "{p} lives in a flat in {c}."),
             ("{p} moved to {c} and still lives there.",)),
}
THING_QUERIES = {
    "what": (("What is a {t}?", "define {t}", "What does the word {t} mean?"),
             ("Can you explain what a {t} is?",)),
    "use": (("What is a {t} used for?", "What do people use a {t} for?", "{t} purpose"),
            ("Why would someone need a {t}?",)),
}
THING_PASSAGES = {
    "what": (("A {t} is {d}.", "The word {t} means {d}."), ("By {t} we mean {d}.",)),
    "use": (("People use a {t} {u}.", "A {t} is used {u}."), ("The main use of a {t} is {u}.",)),
}


def _entity(rng: random.Random, kind: str, held: bool) -> dict:
    """A random entity of ``kind`` with the facts its passages mention."""
    def pick(table):
        return rng.choice(table[1] if held and rng.random() < 0.8 else table[0])

    if kind == "city":
        city, country = pick(CITIES).split("/")
        n = rng.randint(50_000, 9_000_000)
        return {"c": city, "k": country, "n": f"{n:,}", "a": f"{rng.uniform(40, 1500):.2f}",
                "y": str(rng.randint(800, 1900)), "f": rng.choice(FAMOUS_FOR),
                "g": rng.choice(FAMOUS_FOR), "w": rng.choice(WEATHER), "name": city}
    if kind == "country":
        country, capital, language, money = pick(COUNTRIES).split("/")
        return {"k": country, "c": capital, "l": language, "m": money, "name": country}
    if kind == "person":
        person = f"{pick(FIRST_NAMES)} {pick(LAST_NAMES)}"
        return {"p": person, "y": str(rng.randint(1930, 2005)), "j": pick(JOBS),
                "c": pick(CITIES).split("/")[0], "name": person}
    name, definition, use = pick(THINGS)
    return {"t": name, "d": definition, "u": use, "name": name}


_KINDS = {"city": (CITY_QUERIES, CITY_PASSAGES), "country": (COUNTRY_QUERIES, COUNTRY_PASSAGES),
          "person": (PERSON_QUERIES, PERSON_PASSAGES), "thing": (THING_QUERIES, THING_PASSAGES)}


def _passage(rng: random.Random, kind: str, aspect: str, facts: dict, held: bool) -> str:
    train, held_out = _KINDS[kind][1][aspect]
    template = rng.choice(held_out if held and rng.random() < 0.4 else train)
    return template.format(**facts)


def relevance_examples(split: str = "train", n: int | None = None
                       ) -> list[tuple[str, list[tuple[str, str]]]]:
    """Generated queries, each with four candidate passages, the relevant one first.

    Returns ``(query, [(passage, what), ...])`` with ``what`` one of ``"relevant"``,
    ``"same entity"`` (answers another question about the query's city, country, person
    or thing), ``"same question"`` (answers the query's question about another entity)
    and ``"unrelated"``. ``split="held-out"``: mostly held-out cities, countries, names,
    jobs and things, held-out query phrasings and passage templates; never the lesson's
    Berlin pair.
    """
    held = is_held_out(split)
    n = n or (CE_HELD_OUT_QUERIES if held else CE_TRAIN_QUERIES)
    rng = random.Random(23 if held else 21)
    kinds = ("city", "city", "city", "country", "person", "thing")
    out = []
    while len(out) < n:
        kind = rng.choice(kinds)
        queries, passages = _KINDS[kind]
        facts = _entity(rng, kind, held)
        aspect = rng.choice(sorted(queries))
        train_q, held_q = queries[aspect]
        query = rng.choice(held_q if held and rng.random() < 0.5 else train_q).format(**facts)
        other = _entity(rng, kind, held)
        if other["name"] == facts["name"]:
            continue
        other_aspect = rng.choice([a for a in sorted(queries) if a != aspect])
        if {aspect, other_aspect} == {"population", "area"}:  # the lesson's passage has both
            other_aspect = rng.choice([a for a in sorted(queries) if a not in ("population",
                                                                               "area")])
        u_kind = rng.choice([k for k in _KINDS if k != kind])
        u_facts = _entity(rng, u_kind, held)
        u_aspect = rng.choice(sorted(_KINDS[u_kind][0]))
        candidates = [
            (_passage(rng, kind, aspect, facts, held), "relevant"),
            (_passage(rng, kind, other_aspect, facts, held), "same entity"),
            (_passage(rng, kind, aspect, other, held), "same question"),
            (_passage(rng, u_kind, u_aspect, u_facts, held), "unrelated"),
        ]
        if _normal(query) == _normal(CE_LESSON_QUERY) and "3,520,031" in candidates[0][0]:
            continue
        out.append((query, candidates))
    return out
