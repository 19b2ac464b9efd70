"""Reference VADER scores for cxkpi's sentiment module.

Writes vader_reference.json: a corpus of varied sentences (negation, boosters and
dampeners, "but", capitals, punctuation, emoticons, emoji, idioms, "least", "no",
typical customer feedback, and combinations made from templates) with the scores of
the reference implementation.

    python3 -m pip install vaderSentiment==3.3.2
    python3 crates/core/tests/data/vader_reference.py

With --lexicons it also rewrites crates/core/data/vader/*.tsv from the installed
package (see the README there).
"""
import itertools
import json
import os
import random
import sys

import vaderSentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

HERE = os.path.dirname(os.path.abspath(__file__))

HAND = [
    # The package's own examples.
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "It was one of the worst movies I've seen, despite good reviews.",
    "Unbelievably bad acting!!",
    "Poor direction.",
    "VERY poor production.",
    "The movie was bad.",
    "Very bad movie.",
    "VERY BAD movie!",
    # Where the Rust crate vader_sentiment 0.1.1 differs.
    "I love it?",
    "I love it??",
    "I love it???",
    "I love it????",
    "great :)",
    "GREAT :) but slow",
    "no problems at all",
    "there were no issues and no delays",
    "no",
    "No way, no.",
    "I heart this shop",
    "my heart sank",
    "very very good",
    "extremely helpful staff",
    # "no", "nor", "least", idioms.
    "no good or bad",
    "no help nor support",
    "the least helpful agent",
    "at least helpful",
    "very least helpful",
    "this product is the bomb",
    "yeah right, great service",
    "the kiss of death for this brand",
    "the cake was to die for",
    "I waited at the bus stop",
    "a beating heart",
    "kind of good",
    "sort of bad",
    "just enough help",
    "never so good",
    "never this bad",
    "without doubt the best",
    "not without doubt good",
    # Customer feedback.
    "The delivery was late and the box was damaged.",
    "Support answered within minutes, fantastic!",
    "Price went up again, not happy.",
    "Too expensive for what it does",
    "The new dashboard is confusing",
    "Great product, terrible onboarding",
    "I had to contact support three times. Still not fixed!!!",
    "Agent was rude and unhelpful",
    "Fast shipping, item as described. Thanks!",
    "Meh.",
    "ok",
    "It works.",
    "The app keeps crashing 😡",
    "Love it ❤️",
    "love it ❤",
    "best purchase this year 👍👍",
    "worst experience ever 👎",
    "😂😂😂",
    "🙂",
    "thanks 🙏",
    "I can't recommend this enough",
    "I can't recommend this",
    "Wouldn't buy again.",
    "Won't be renewing my subscription",
    "Couldn't be happier with the service",
    "Nothing works as advertised",
    "The refund took weeks, but the agent was kind",
    "The agent was kind, but the refund took weeks",
    "Good but not great",
    "Not great, but good",
    "I was disappointed, BUT the team fixed it quickly",
    "PLEASE fix the login issue",
    "HORRIBLE SERVICE",
    "Horrible service",
    "horrible SERVICE",
    "Amazing!!!!!!",
    "Why is this so slow??",
    "Why?",
    "Is it good?",
    "The checkout failed twice... annoying",
    "Five stars :D",
    "Zero stars :(",
    "sad :-(",
    "happy :-)",
    "<3 this app",
    "</3 broken again",
    "",
    "   ",
    "!!!",
    "12345",
    "Line one is great.\nLine two is awful.",
    "tab\tseparated good\tbad",
    "Ça marche très bien, merci",
    "Sehr gut, danke",
    "¡Excelente servicio!",
    "no no no",
    "not bad, not good",
    "hardly helpful",
    "barely working",
    "somewhat satisfied",
    "slightly annoyed",
    "fairly good",
    "really really bad",
    "REALLY bad",
    "really BAD",
    "So good!",
    "SO good!",
    "the onboarding was, frankly, a mess; support however was superb",
    "I don't hate it",
    "I do not love it",
    "I never liked it",
    "it isn't bad",
    "ain't nothing wrong with it",
    "cannot complain",
    "can't complain",
    "nothing to complain about",
    "rarely disappointed",
    "seldom happy",
    "despite the delay, happy",
    "uh-uh, not good",
    "nope, terrible",
]

SUBJECTS = ["The agent", "Delivery", "The app", "Billing", "Support", "The product",
            "Onboarding", "The refund"]
MODIFIERS = ["", "very ", "extremely ", "somewhat ", "not ", "not very ", "never ",
             "kind of ", "REALLY ", "barely ", "no ", "hardly "]
ADJECTIVES = ["good", "bad", "helpful", "slow", "great", "terrible", "fine", "awful",
              "friendly", "useless", "OK", "EXCELLENT", "annoying", "amazing", "broken",
              "reliable"]
ENDINGS = ["", ".", "!", "!!", "!!!!!", "?", "??", " :)", " :(", " 😀", " 😞", " lol",
           " but it was fixed", " but it is expensive"]


def corpus():
    sentences = list(HAND)
    rng = random.Random(20261123)
    combos = list(itertools.product(SUBJECTS, MODIFIERS, ADJECTIVES, ENDINGS))
    rng.shuffle(combos)
    for subject, modifier, adjective, ending in combos[:500]:
        verb = "was" if rng.random() < 0.5 else "is"
        sentences.append(f"{subject} {verb} {modifier}{adjective}{ending}")
    # Two-clause sentences with "but" and mixed case.
    for _ in range(100):
        a, b = rng.sample(ADJECTIVES, 2)
        m1, m2 = rng.choice(MODIFIERS), rng.choice(MODIFIERS)
        s1, s2 = rng.sample(SUBJECTS, 2)
        sentences.append(f"{s1} was {m1}{a}, but {s2.lower()} was {m2}{b}{rng.choice(ENDINGS)}")
    return sentences


def write_lexicons():
    package = os.path.dirname(vaderSentiment.__file__)
    out = os.path.join(HERE, "..", "..", "data", "vader")
    with open(os.path.join(package, "vader_lexicon.txt"), encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    with open(os.path.join(out, "vader_lexicon.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            if line:
                word, measure = line.strip().split("\t")[0:2]
                f.write(f"{word}\t{measure}\n")
    with open(os.path.join(package, "emoji_utf8_lexicon.txt"), encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    with open(os.path.join(out, "emoji_lexicon.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            emoji, description = line.strip().split("\t")[0:2]
            if len(emoji) == 1:
                f.write(f"{emoji}\t{description}\n")


def main():
    if "--lexicons" in sys.argv:
        write_lexicons()
    analyzer = SentimentIntensityAnalyzer()
    rows = []
    for text in corpus():
        scores = analyzer.polarity_scores(text)
        rows.append({"text": text, **scores})
    with open(os.path.join(HERE, "vader_reference.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "vaderSentiment 3.3.2 via vader_reference.py",
                   "rows": rows}, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(len(rows), "sentences")


if __name__ == "__main__":
    main()
