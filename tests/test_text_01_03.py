"""Notebooks 01-03 say what the kit does and what the checks ask (issue 18): the wrong statements the
issue found stay out, the kit's settings come from ``RECOMMENDED``, terms are defined where used, and
each instruction states what its check enforces."""

from __future__ import annotations

import re

import pytest
from solution_text import text

from helpers.course import RECOMMENDED


def section(number: str, heading: str) -> str:
    """The markdown from ``heading`` to the next ``## `` heading."""
    after = text(number).split(heading, 1)[1]
    return after.split("\n## ", 1)[0]


@pytest.mark.parametrize(
    ("number", "wrong"),
    [
        # item 1: the kit's recommended MFCC count is RECOMMENDED's, not 80
        ("02", r"the kit keeps all 80"),
        ("02", r"From notebook 05 on"),
        ("03", r"From notebook 05 on"),
        ("03", r"n_mfcc=80, n_mels=80"),
        ("03", r"the 80 of notebooks 05"),
        # item 3: DataLoader workers are seeded per worker and per epoch since PyTorch 1.9
        ("03", r"workers hand out the same"),
        ("03", r"nothing makes the crops change"),
        # item 5: ECAPA-TDNN's paper used 80 MFCCs
        ("02", r"ECAPA-TDNN, for instance\) feed the 80 log-mel"),
        # item 8: the 4-8 kHz band carries speaker information
        ("01", r"cues to who is speaking sit well below 8 kHz"),
        # item 9: f -> r - f holds only between r/2 and r
        ("01", r"comes back as `r − f`"),
        # item 11: bare names and internal references
        ("02", r"SpecAugment"),
        ("02", r"\(README\)"),
        ("03", r"README"),
    ],
)
def test_wrong_statements_stay_out(number: str, wrong: str) -> None:
    assert not re.search(wrong, text(number)), wrong


def test_the_summary_of_02_gives_the_general_folding_rule() -> None:
    summary = section("02", "## Summary")
    assert "sr − f" not in summary
    assert re.search(r"folds back into 0 … `sr / 2`", summary)


def test_think_1_1_gives_the_general_folding_rule() -> None:
    assert re.search(r"nearest multiple of `r`, `\|f − k·r\|`", text("01"))


def test_speaker_information_above_4_khz_is_stated() -> None:
    assert re.search(r"4–8 kHz band still carries real speaker\s+information", text("01"))


def test_02_names_both_mel_scales() -> None:
    mel = section("02", "## 7 · Mel spectrogram and MFCC")
    assert "HTK" in mel and "Slaney" in mel and "Exercise 2.5" in mel


def test_the_kits_mfcc_count_is_recommendeds() -> None:
    n = RECOMMENDED["n_mfcc"]
    assert f"keeps {n} MFCCs of 80 mel bands" in text("02")
    assert f"drops the {80 - n} highest coefficients" in text("02")
    for number in ("02", "03"):
        assert 'RECOMMENDED["n_mfcc"]' in text(number)
        for stated in re.findall(r"kit[^.]{0,80}?\b(\d+) (?:MFCCs|coefficients)", text(number)):
            assert int(stated) == n, stated


def test_ecapa_is_defined_and_its_80_mfccs_told_apart_from_the_log_mel_recipes() -> None:
    think = text("02").split("**Think! 2.4", 1)[1]
    assert re.search(r"ECAPA-TDNN paper \(a time-delay neural network", think)
    assert (
        "used 80 MFCCs" in think
        and "SpeechBrain's and WeSpeaker's recipes feed 80 log-mel" in think
    )


def test_think_3_3_says_what_worker_seeding_really_does() -> None:
    think = text("03").split("**Think! 3.3", 1)[1].split("<!-- END ANSWER -->")[0]
    assert "PyTorch 1.9" in think and "num_workers" in think and "which worker" in think


@pytest.mark.parametrize(
    ("number", "exercise", "requirement"),
    [
        ("01", "Exercise 1.3", r"8 kHz file"),
        ("01", "Exercise 1.3", r"only\s+the window is decoded"),
        ("01", "Exercise 1.4", r"round\(start_seconds × sample_rate\)"),
        ("02", "Exercise 2.3", r"0 dB"),
        ("02", "Exercise 2.6", r"numpy\s+arrays, as `mel_and_mfcc` returns them"),
        ("03", "Exercise 3.3", r"input list comes in another\s+order"),
        ("03", "Exercise 3.4", r"\(self\.seed, self\.epoch,\s+index\)"),
    ],
)
def test_instructions_state_what_the_check_enforces(
    number: str, exercise: str, requirement: str
) -> None:
    instruction = text(number).split(f"### {exercise} — ", 1)[1].split("\n#", 1)[0]
    assert re.search(requirement, instruction), (exercise, requirement)


@pytest.mark.parametrize("number", ["01", "02", "03"])
def test_no_bare_names_of_systems_the_student_has_not_met(number: str) -> None:
    body = text(number)
    for name in ("x-vector", "Kaldi", "SpecAugment"):
        assert name not in body, name
    assert body.count("TDNN") <= 1  # the one in Think 2.4, defined there
