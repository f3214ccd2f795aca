"""How the simulated PBX answers an ``Originate`` no recording answers: the agent's phone
is answered, then the citizen's leg ends by a fixed rule on the number's last digit:
7 and 8 do not answer, 9 is busy, any other answers (docs/demo.md).

As Asterisk does for the shipped ``[callback]`` dialplan (tests/data/ami-traces/f-callback.ami):
the action is queued at once; a few seconds later the ``OriginateResponse`` says the
agent's channel answered (its Uniqueid is the action's ``ChannelId``); a few seconds after
that the citizen's leg ends ringing with ``DialStatus: ANSWER`` (a ``DialEnd`` on the
agent's channel, whose Linkedid is the ChannelId). Pure: it returns what to send, and
when; the session sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

from phoneservice.pbx.protocol import Message, encode

AGENT_ANSWERS_AFTER = 2.0  # seconds from the action to the OriginateResponse
CITIZEN_ANSWERS_AFTER = 3.0  # seconds from the OriginateResponse to the citizen's DialEnd


NO_ANSWER_DIGITS, BUSY_DIGITS = frozenset("78"), frozenset("9")


def citizen_status(number: str) -> str:
    """The citizen's DIALSTATUS in the demo: by the number's last digit, so it can be shown."""
    digits = [char for char in number if char.isascii() and char.isdigit()]
    last = digits[-1] if digits else ""
    if last in NO_ANSWER_DIGITS:
        return "NOANSWER"
    return "BUSY" if last in BUSY_DIGITS else "ANSWER"


@dataclass(frozen=True, slots=True)
class Step:
    """One message to send ``after`` seconds (counted from the step before)."""

    after: float
    data: bytes


def answered_call(
    action: Message,
    agent_after: float = AGENT_ANSWERS_AFTER,
    citizen_after: float = CITIZEN_ANSWERS_AFTER,
) -> list[Step]:
    """The answer to ``action``, the agent's phone answering, and the citizen's leg's end."""
    action_id = action.action_id or ""
    channel = action.get("Channel") or "PJSIP/demo"
    uniqueid = action.get("ChannelId") or f"demo-{action_id}"
    context, exten = action.get("Context") or "callback", action.get("Exten") or ""
    queued = [("Response", "Success"), ("ActionID", action_id)]
    answered = [
        ("Event", "OriginateResponse"),
        ("Privilege", "call,all"),
        ("ActionID", action_id),
        ("Response", "Success"),
        ("Channel", channel),
        ("Context", context),
        ("Exten", exten),
        ("Reason", "4"),
        ("Uniqueid", uniqueid),
    ]
    citizen = [
        ("Event", "DialEnd"),
        ("Privilege", "call,all"),
        ("Channel", channel),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("Context", context),
        ("Exten", exten),
        ("Uniqueid", uniqueid),
        ("Linkedid", uniqueid),
        ("DestChannel", f"Local/{exten}@citizens-demo;1"),
        ("DestUniqueid", f"{uniqueid}-2"),
        ("DestLinkedid", uniqueid),
        ("DialStatus", citizen_status(exten)),
    ]
    return [
        Step(0.0, encode([*queued, ("Message", "Originate successfully queued")])),
        Step(agent_after, encode(answered)),
        Step(citizen_after, encode(citizen)),
    ]
