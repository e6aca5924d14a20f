"""Entry CAPTCHA: a question readable in the HTML, answered by a form POSTed to ``/captcha``.

Questions are arithmetic or about a word, in a few wordings; which wordings a site uses,
and the sequence of questions, follow from the world seed and the site name. A right
answer sets the signed ``eg_pass`` cookie and redirects (303) to ``next``; a wrong one
shows a new question; more than ``captcha_max_wrong`` wrong answers in a row → 429 with
``Retry-After`` for ``captcha_lockout`` seconds. Question tokens are single-use.
Depends on aiohttp and ``.common``.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from onionlab.lab.sites.obstacles.common import (
    ANON,
    PASS_COOKIE,
    Bounded,
    Front,
    esc,
    html_response,
    new_visitor,
    page,
    safe_next,
    see_other,
    set_cookie,
)
from onionlab.lab.sites.obstacles.ratelimit import too_many_requests

NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
WORDS = (
    "escrow", "bitcoin", "vendor", "listing", "monero", "stealth", "parcel", "tumbler",
    "mirror", "onion", "wallet", "feedback", "dispute", "shipping", "pgp", "market",
)  # fmt: skip

Question = tuple[str, str]  # (text shown, expected answer)


def _plus(r: random.Random) -> Question:
    a, b = r.randint(2, 30), r.randint(2, 30)
    return f"What is {a} plus {b}?", str(a + b)


def _plus_sign(r: random.Random) -> Question:
    a, b = r.randint(2, 30), r.randint(2, 30)
    return f"What is {a} + {b}?", str(a + b)


def _minus(r: random.Random) -> Question:
    a, b = r.randint(10, 40), r.randint(1, 9)
    return f"What is {a} minus {b}?", str(a - b)


def _times(r: random.Random) -> Question:
    a, b = r.randint(2, 9), r.randint(2, 9)
    return f"What is {a} times {b}?", str(a * b)


def _words(r: random.Random) -> Question:
    a, b = r.randint(0, 20), r.randint(0, 20)
    return f"What is {NUMBER_WORDS[a]} plus {NUMBER_WORDS[b]}?", str(a + b)


def _reverse(r: random.Random) -> Question:
    word = r.choice(WORDS)
    return f'Type the word "{word}" backwards.', word[::-1]


def _letters(r: random.Random) -> Question:
    word = r.choice(WORDS)
    return f'How many letters are in the word "{word}"?', str(len(word))


STYLES: tuple[Callable[[random.Random], Question], ...] = (
    _plus, _plus_sign, _minus, _times, _words, _reverse, _letters,
)  # fmt: skip


def question_source(seed: int, site: str) -> Callable[[], Question]:
    """The site's deterministic stream of questions: three wordings chosen by the seed."""
    styles = random.Random(f"captcha-styles:{seed}:{site}").sample(STYLES, 3)
    rng = random.Random(f"captcha:{seed}:{site}")

    def next_question() -> Question:
        return rng.choice(styles)(rng)

    return next_question


@dataclass
class _Pending:
    answer: str
    visitor: str
    issued: float


def captcha_page(front: Front, question: str, token: str, target: str, error: str) -> bytes:
    notice = f'<p class="captcha-error">{esc(error)}</p>' if error else ""
    return page(
        f"{front.site} - Captcha",
        '<div class="captcha-box"><h1>Security check</h1>'
        "<p>Answer the question to enter the site.</p>"
        f'{notice}<form class="captcha-form" method="post" action="/captcha">'
        f'<p class="captcha-question">{esc(question)}</p>'
        f'<input type="hidden" name="token" value="{esc(token)}">'
        f'<input type="hidden" name="next" value="{esc(target)}">'
        '<label>Answer <input type="text" name="answer" autocomplete="off" required></label> '
        '<button type="submit">Verify</button></form></div>',
    )


def make_captcha(front: Front) -> Middleware:
    """The CAPTCHA middleware."""
    profile = front.profile
    next_question = question_source(front.seed, front.site)
    pending: Bounded[str, _Pending] = Bounded(20_000)  # token → question
    wrong: Bounded[str, int] = Bounded(50_000)  # visitor → wrong answers in a row
    locked: Bounded[str, float] = Bounded(50_000)  # visitor → locked until

    def ask(visitor: str, target: str, error: str = "") -> web.Response:
        text, answer = next_question()
        token = secrets.token_urlsafe(18)
        pending.put(token, _Pending(answer, visitor, front.clock()))
        return html_response(captcha_page(front, text, token, target, error))

    def lockout(visitor: str) -> web.Response | None:
        until = locked.get(visitor)
        if until is None:
            return None
        remaining = until - front.clock()
        if remaining <= 0:
            locked.pop(visitor)
            return None
        return too_many_requests(front, remaining, "Too many wrong CAPTCHA answers.")

    async def check(request: web.Request) -> web.Response:
        form = await request.post()
        token, given = str(form.get("token", "")), str(form.get("answer", ""))
        target = safe_next(str(form.get("next", "")))
        entry = pending.pop(token)
        visitor = front.visitor(request)
        if entry is not None and visitor == ANON:
            visitor = entry.visitor
        if visitor == ANON:
            visitor = new_visitor()
        refused = lockout(visitor)
        if refused is not None:
            return refused
        fresh = entry is not None and front.clock() - entry.issued < 900
        if fresh and entry is not None and given.strip().lower() == entry.answer:
            wrong.pop(visitor)
            response = see_other(target)
            set_cookie(response, PASS_COOKIE, front.signer.sign(visitor, front.clock()))
            return response
        count = (wrong.get(visitor) or 0) + 1
        if count > profile.captcha_max_wrong:
            wrong.pop(visitor)
            locked.put(visitor, front.clock() + profile.captcha_lockout)
            return too_many_requests(
                front, profile.captcha_lockout, "Too many wrong CAPTCHA answers."
            )
        wrong.put(visitor, count)
        error = "Wrong answer, try again." if fresh else "This question expired, try again."
        return ask(visitor, target, error)

    @web.middleware
    async def captcha(request: web.Request, handler: Handler) -> web.StreamResponse:
        if front.passed(request) is not None:
            return await handler(request)
        if request.path == "/captcha" and request.method == "POST":
            return await check(request)
        visitor = front.visitor(request)
        if visitor != ANON:
            refused = lockout(visitor)
            if refused is not None:
                return refused
        target = safe_next(request.path_qs if request.method == "GET" else "/")
        return ask(visitor if visitor != ANON else new_visitor(), target)

    return captcha
