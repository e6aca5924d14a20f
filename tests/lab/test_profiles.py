"""Tests of lab profiles (``lab/profiles.py``): the named profiles and instructors' TOML files."""

from __future__ import annotations

import dataclasses
import json

import pytest

from onionlab.lab.profiles import DEFAULT, OPEN, LabProfile, ProfileError, load_profile

SWITCHES = ("queue", "captcha", "login", "rate_limit", "trap_calendar", "trap_sort",
            "trap_sid", "trap_logout", "trap_honeypot")  # fmt: skip


def test_default_has_every_obstacle_on_and_open_none():
    assert all(getattr(DEFAULT, s) for s in SWITCHES)
    assert not any(getattr(OPEN, s) for s in SWITCHES)
    assert DEFAULT.any_obstacle and not OPEN.any_obstacle
    assert load_profile("default") is DEFAULT
    assert load_profile("open") is OPEN


def test_default_parameters_are_solvable_for_a_polite_crawler():
    assert DEFAULT.queue_wait == 2
    assert DEFAULT.captcha_max_wrong == 3
    assert DEFAULT.session_ttl == 600
    assert DEFAULT.rate >= 20 and DEFAULT.burst >= 20  # ~20 concurrent requests never stuck
    assert (DEFAULT.account_username, DEFAULT.account_password) == ("trainee", "trainee-lab-pass")
    assert dict(DEFAULT.exit_scam) == {} and DEFAULT.mirror_rotation == 0


def test_to_dict_is_json_and_complete():
    data = json.loads(json.dumps(DEFAULT.to_dict()))
    assert set(data) == {f.name for f in dataclasses.fields(LabProfile)}
    assert data["name"] == "default" and data["exit_scam"] == {}


def test_profiles_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.queue = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULT.exit_scam["market"] = 1  # type: ignore[index]


def test_toml_file_overrides_default(tmp_path):
    path = tmp_path / "week2.toml"
    path.write_text(
        "queue_wait = 5\ntrap_honeypot = false\nburst = 20\n[exit_scam]\nmarket = 900\n"
    )
    p = load_profile(str(path))
    assert p.name == "week2"
    assert (p.queue_wait, p.trap_honeypot, p.burst) == (5.0, False, 20)
    assert dict(p.exit_scam) == {"market": 900}
    assert p.captcha and p.login and p.rate == DEFAULT.rate  # the rest is default
    assert p.to_dict()["exit_scam"] == {"market": 900}


def test_toml_file_can_start_from_open(tmp_path):
    path = tmp_path / "captcha-only.toml"
    path.write_text('base = "open"\nname = "captcha drill"\ncaptcha = true\n')
    p = load_profile(str(path))
    assert p.name == "captcha drill"
    assert [s for s in SWITCHES if getattr(p, s)] == ["captcha"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queue_wiat = 3\n", "unknown key 'queue_wiat'"),
        ('queue = "yes"\n', "queue must be true or false"),
        ("burst = 2.5\n", "burst must be a whole number"),
        ("rate = 0\n", "rate must be > 0"),
        ("queue_wait = true\n", "queue_wait must be a number"),
        ("exit_scam = 5\n", "exit_scam must be a table"),
        ("[exit_scam]\nmarket = -1\n", "exit_scam.market must be seconds >= 0"),
        ('base = "closed"\n', "base must be one of default, open"),
        ("queue_wait = \n", "not valid TOML"),
    ],
)
def test_bad_profile_files_are_explained(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_unknown_profile_name_lists_the_choices():
    with pytest.raises(ProfileError, match="use default, open or hostile, or the path of a TOML"):
        load_profile("paranoid")
