"""Passes the lab's obstacle pages: the "Please Wait" queue, the entry CAPTCHA, the login wall.

A built-in plugin like any other (entry point ``lab_gate``); it uses only
``crawler.hookimpl`` and Scrapy, and knows the lab's obstacles by their markup alone:

- queue: title "Please Wait" with ``span.queue-seconds`` → wait that long;
- CAPTCHA: ``form.captcha-form`` with a text question in ``p.captcha-question``
  (arithmetic in digits or number words, a word backwards, a letter count) → answer it;
- login wall: ``form.login-form`` on a page that is not ``/login`` itself → log in with
  the configured account, or register a fresh one first when none is configured;
- ``p.banned`` → banned (nothing to do: the gate records the page as failed).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse

from onionlab import hookimpl

UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS = {word: value for value, word in enumerate(UNITS)} | {
    word: 10 * value for value, word in enumerate(TENS) if word
}
OPERATORS = {
    "plus": lambda a, b: a + b,
    "+": lambda a, b: a + b,
    "minus": lambda a, b: a - b,
    "-": lambda a, b: a - b,
    "times": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "*": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "multiplied by": lambda a, b: a * b,
}
QUOTE = "\"'“”‘’«»"
ARITHMETIC = re.compile(
    r"what\s+is\s+(?P<a>[\w-]+)\s*(?P<op>multiplied by|plus|minus|times|[-+x*×])\s*"
    r"(?P<b>[\w-]+)\s*\??",
    re.IGNORECASE,
)
BACKWARDS = re.compile(rf"word\s+[{QUOTE}](?P<w>[^{QUOTE}]+)[{QUOTE}]\s+backwards", re.I)
# "how many letters … word '…'": the head, then the first quoted word after it on its line.
# As one regex (head.*?word…) every head without a word after it read to the end of the
# question: quadratic in a question of repeated heads. See _letters().
LETTERS_HEAD = re.compile(r"how\s+many\s+letters", re.I)
LETTERS_WORD = re.compile(rf"word\s+[{QUOTE}](?P<w>[^{QUOTE}]+)[{QUOTE}]", re.I)
_MAX_NUMBER_DIGITS = 18  # a CAPTCHA's operands are small; int() refuses > 4,300 digits
LOGIN_PATHS = ("/login", "/register")

# Accounts this plugin registered itself, per onion host (only when none is configured).
_registered: dict[str, tuple[str, str]] = {}


def parse_number(text: str) -> int | None:
    """``"12"``, ``"twelve"``, ``"twenty-one"``, ``"twenty one"`` → the number, else None."""
    text = text.strip().lower()
    if text.isdecimal():  # (not isdigit(): "²" is a digit that int() refuses)
        return int(text) if len(text) <= _MAX_NUMBER_DIGITS else None
    total = 0
    for part in re.split(r"[\s-]+", text):
        if part not in NUMBER_WORDS:
            return None
        total += NUMBER_WORDS[part]
    return total if text else None


def _letters(question: str) -> re.Match[str] | None:
    r"""The quoted word of a letter-count question: what
    ``how\s+many\s+letters.*?word\s+'(?P<w>…)'`` (re.I) would find, in linear time.

    The word is the first one after the leftmost head with no line break between; a word
    found once serves every later head before it, and with none left no head can succeed.
    """
    word: re.Match[str] | None = None
    head = LETTERS_HEAD.search(question)
    while head is not None:
        if word is None or word.start() < head.end():
            word = LETTERS_WORD.search(question, head.end())
            if word is None:
                return None
        if question.find("\n", head.end(), word.start()) == -1:
            return word
        head = LETTERS_HEAD.search(question, head.start() + 1)
    return None


def solve_captcha(question: str) -> str | None:
    """The answer to one of the lab's CAPTCHA questions, or None for a question it cannot read."""
    question = " ".join(question.split())
    if match := BACKWARDS.search(question):
        return match["w"][::-1]
    if match := _letters(question):
        return str(len(match["w"]))
    if match := ARITHMETIC.search(question):
        a, b = parse_number(match["a"]), parse_number(match["b"])
        if a is None or b is None:
            return None
        return str(OPERATORS[match["op"].lower()](a, b))
    return None


def form_request(response: TextResponse, css: str, values: dict[str, str]) -> scrapy.Request:
    """POST the form ``css`` of ``response``: its named inputs, with ``values`` filled in."""
    form = response.css(css)[0]
    # Each name's value is that of its first input with a value attribute (as the CSS query
    # input[name="…"]::attr(value) per name gave: a query per input, quadratic in a form of
    # thousands, and an error for a name holding a quote), read here in one pass.
    shown: dict[str, str | None] = {}
    for field in form.css("input"):
        name = field.attrib.get("name")
        if name is not None and shown.get(name) is None:
            shown[name] = field.attrib.get("value")
    data = {name: value or "" for name, value in shown.items()}
    action = response.urljoin(form.attrib.get("action") or response.url)
    return scrapy.FormRequest(action, formdata=data | values)


def _host(response: TextResponse) -> str:
    return (urlsplit(response.url).hostname or "").lower()


@hookimpl
def onionlab_page_state(response: TextResponse) -> str | None:
    if response.css("p.banned"):
        return "banned"
    title = response.css("title::text").get() or ""
    if "Please Wait" in title and response.css("span.queue-seconds"):
        return "wait"
    if response.css("form.captcha-form"):
        return "captcha"
    if response.css("form.login-form") and urlsplit(response.url).path not in LOGIN_PATHS:
        return "login"
    return None


def _wait(response: TextResponse) -> dict[str, float]:
    text = (response.css("span.queue-seconds::text").get() or "").strip()
    try:
        return {"wait": max(0.0, float(text))}
    except ValueError:
        return {"wait": 1.0}


def _captcha(response: TextResponse) -> scrapy.Request | None:
    question = " ".join(response.css("p.captcha-question ::text").getall())
    answer = solve_captcha(question)
    if answer is None:
        return None
    return form_request(response, "form.captcha-form", {"answer": answer})


def _login(response: TextResponse, credentials: object | None) -> scrapy.Request:
    host = _host(response)
    if credentials is not None:
        username = str(getattr(credentials, "username", ""))
        password = str(getattr(credentials, "password", ""))
    elif host in _registered:
        username, password = _registered[host]
    else:  # no account configured: register one, log in on the next login page
        username, password = f"reader_{secrets.token_hex(5)}", secrets.token_urlsafe(15)
        _registered[host] = (username, password)
        target = response.css("form.login-form input[name=next]::attr(value)").get() or "/"
        link = response.css("a.register-link::attr(href)").get() or "/register"
        return scrapy.FormRequest(
            response.urljoin(urlsplit(link).path or "/register"),
            formdata={
                "username": username,
                "password": password,
                "password2": password,
                "next": target,
            },
        )
    return form_request(response, "form.login-form", {"username": username, "password": password})


@hookimpl
def onionlab_gate_request(
    response: TextResponse, state: str, credentials: object | None
) -> scrapy.Request | dict[str, float] | None:
    if state == "wait":
        return _wait(response)
    if state == "captcha" and response.css("form.captcha-form"):
        return _captcha(response)
    if state == "login" and response.css("form.login-form"):
        return _login(response, credentials)
    return None
