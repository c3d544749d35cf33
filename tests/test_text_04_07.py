"""Notebooks 04-07 (issue 18): one voice, terms defined where first used, evaluation that does not
flatter, the embedding without a final ReLU, and each notebook's share of the route budget."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch
from solution_text import cells, text
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ("04", "05", "06", "07")


@pytest.mark.parametrize(
    ("number", "kind", "wrong"),
    [
        # item 1: 80 MFCCs called the recommended setting; "the default model" meaning three things
        ("04", "markdown", r"on 80 MFCCs is the kit's recommended"),
        ("04", "markdown", r"05.07 use 80"),
        ("05", "markdown", r"80 MFCCs from here on"),
        ("05", "code", r"n_mfcc=80"),
        ("06", "code", r"n_mfcc=80|80 MFCCs"),
        ("04", "markdown", r"[Tt]he default model"),
        ("05", "markdown", r"[Tt]he default model"),
        ("06", "markdown", r"[Tt]he default model"),
        ("06", "code", r"default model"),
        ("07", "markdown", r"[Tt]he default model"),
        # item 2: 07 Think on your voice elsewhere
        ("07", "markdown", r"without augmentation\)"),
        # item 6: minDCF framing
        ("07", "markdown", r"where\s+a false acceptance is the costly error"),
        ("07", "markdown", r"99 are impostors"),
        # item 7: Adam's steps do not grow
        ("05", "markdown", r"the steps grow and point more and more"),
        # item 11: internal references, speaker counts not of the tier used
        ("06", "markdown", r"README, issue 11"),
        ("06", "markdown", r"[Mm]ore than two hundred speakers"),
        ("07", "markdown", r"~250 speakers"),
        # item 12: training times given once (the Time line, from tools/route.py)
        ("05", "markdown", r"a few minutes on the `small` tier|about 10 minutes in all"),
        ("06", "markdown", r"takes a few minutes on the `small` tier"),
        ("07", "markdown", r"takes a few minutes on the `small` tier"),
        # evaluation: the first files in path order are one or two sessions
        ("06", "code", r"key=lambda u: u\.path\)\[\s*:FILES_PER_SPEAKER"),
        ("07", "code", r"key=lambda u: u\.path\)\[\s*:FILES_PER_SPEAKER"),
        ("05", "code", r'headline\("best utterance accuracy"'),
    ],
)
def test_removed_statements_stay_removed(number: str, kind: str, wrong: str) -> None:
    assert not re.search(wrong, text(number, kind)), wrong


@pytest.mark.parametrize(
    ("number", "right"),
    [
        ("04", r"`RECOMMENDED` in `helpers.course`"),
        ("05", r"`RECOMMENDED`'s number of coefficients"),
        ("05", r"Adam divides by a running estimate"),
        ("05", r"\*\*baseline\*\*"),
        ("05", r"\*\*test\*\* set"),
        ("06", r"\*\*across its chapters\*\*"),
        ("07", r"\*\*across\s+its chapters\*\*"),
        ("07", r"every target trial pairs two sessions"),
        ("07", r"bootstrap over speakers"),
        ("07", r"VoxSRC: 0\.05"),
        ("07", r"`p` is a \*prior\*"),
        ("07", r"RECOMMENDED\[\"augment\"\]"),
    ],
)
def test_corrections_are_there(number: str, right: str) -> None:
    assert re.search(right, text(number)), right


@pytest.mark.parametrize(
    ("term", "definition"),
    [
        ("x-vector", r"x-vector\*? speaker embedding"),
        ("TDNN", r"time-delay neural\s+network"),
        ("ECAPA", r"ECAPA-TDNN, a larger descendant"),
        ("Kaldi", r"Kaldi speech toolkit"),
        ("SpecAugment", r"SpecAugment \(random masks"),
    ],
)
def test_terms_are_defined_where_first_used(term: str, definition: str) -> None:
    """The first mention of a term in 04-07's text (Further reading aside) carries its definition."""
    for number in NUMBERS:
        body = text(number).split("## Further reading")[0]
        if term in body:
            first = body.index(term)
            assert re.search(definition, body[max(0, first - 40) : first + 300]), (number, term)
            return
    pytest.fail(f"{term} is not used in 04-07")


def test_the_readme_reference_is_gone_from_04_07() -> None:
    for number in NUMBERS:
        assert not re.search(r"README,? issue|issue 11", text(number)), number


def test_dense_embedding_keeps_both_signs() -> None:
    """Item 4: Exercise 4.1's embedding ends in BatchNorm, not ReLU -> Dropout (cosine needs signs)."""
    cell = next(s for s in cells("04", "code") if s.startswith("class DenseClassifier"))
    namespace = {"nn": nn, "torch": torch}
    exec(compile(cell, "04", "exec"), namespace)  # the notebook's own solution cell
    model = namespace["DenseClassifier"](40, 5).eval()
    with torch.no_grad():
        embedding = model.embed(torch.randn(16, 40))
    assert (embedding < 0).any(), "the embedding went through a ReLU"
    assert not isinstance(list(model.body)[-1], nn.ReLU | nn.Dropout)


def test_each_notebook_keeps_to_its_share_of_the_route() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import route

    share = {"04": (1000, 2), "05": (1000, 3), "06": (700, 2), "07": (1000, 2)}
    for b in route.budgets():
        if b.number in share:
            words, exercises = share[b.number]
            assert b.words <= words and b.exercises <= exercises, (b.number, b.words, b.exercises)
            assert b.thinks >= 1, b.number


def test_05_trains_and_chooses_without_the_test_files() -> None:
    """Every set 05 trains or validates on is built from the development files, never the test ones."""
    code = text("05", "code")
    calls = re.findall(r"make_sets\(DATA, .*", code)
    assert calls and all("utterances=development" in call for call in calls), calls
    assert re.search(r'split_utterances\(\s*manifest\.utterances, [^)]*by="chapter"', code)


def test_07_scores_cross_session_trials_with_an_interval() -> None:
    code = text("07", "code")
    assert "files_across_chapters(unseen_utts" in code
    assert "keep = sessions[i] != sessions[j]" in code
    assert "bootstrap_eer(scores, same, classes[i], classes[j]" in code
