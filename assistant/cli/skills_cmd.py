"""``assistant skills`` (what is installed and what failed) and ``assistant skill new NAME``."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from hassil.parse_expression import parse_sentence
from hassil.sample import sample_expression

from assistant.logs import setup_logging
from assistant.skill.api import IntentSpec, Skill
from assistant.skill.registry import ENTRY_POINT_GROUP, SkillSet, load_skills
from assistant.skill.scaffold import create_plugin, package_name
from assistant.understand.slot_types import parameters_schema


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``skills`` listing and the ``skill new`` scaffold."""
    listing = sub.add_parser(
        "skills", parents=[common], help="list the installed skills and their intents, and any that failed"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(func=_list)

    skill = sub.add_parser("skill", help="create skills")
    skill_sub = skill.add_subparsers(dest="skill_command", metavar="ACTION", required=True)
    new = skill_sub.add_parser(
        "new", parents=[common], help="create a plugin package for a new skill, ready to install"
    )
    new.add_argument("name", help="the skill's name: lowercase letters, digits and _, starting with a letter")
    new.add_argument(
        "--dir", metavar="DIR", default=".", help="where to create hearkend-skill-NAME/ (default: here)"
    )
    new.set_defaults(func=_new)


def _plain_reading(template: str) -> str:
    """The template with every optional part left out and the first of each choice taken."""
    expression = parse_sentence(template).expression
    return " ".join(
        next(iter(sample_expression(expression, expand_lists=False, skip_optionals=True))).split()
    )


def example_sentence(spec: IntentSpec) -> str:
    """An example sentence: the fullest plain reading of the templates, slots as {name}, choices filled."""
    best = ""
    for template in spec.sentences:
        try:
            text = _plain_reading(template)
        except Exception:
            # The registry rejects skills whose templates do not parse; such a template is no example.
            continue
        # The first templates' plain readings are often clipped ("time" from "[the] [current] time");
        # the one with the most words is the likeliest to read as a whole sentence.
        if len(text.split()) > len(best.split()):
            best = text
    for name, slot in spec.slots.items():
        if slot.kind == "choice" and slot.values:
            best = best.replace(f"{{{name}}}", slot.values[0])
    return best or spec.sentences[0]


def _source(ep: EntryPoint | None) -> dict[str, Any]:
    dist = ep.dist if ep is not None else None
    return {
        "entry_point": ep.value if ep is not None else None,
        "distribution": dist.name if dist is not None else None,
        "version": dist.version if dist is not None else None,
    }


def _entry_point_of(skill: Skill, candidates: list[EntryPoint]) -> EntryPoint | None:
    for ep in candidates:
        try:
            # The module is already imported by the registry, so this only looks the object up.
            if ep.load() is skill:
                return ep
        except Exception:
            continue
    return None


def describe(skill_set: SkillSet) -> dict[str, Any]:
    """The loaded skills with their intents, and the failed ones with why, as JSON-ready data."""
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    loadable = [ep for name, ep in sorted(eps.items()) if name not in skill_set.failed]
    skills = []
    for skill in sorted(skill_set.skills.values(), key=lambda s: s.name):
        intents = [
            {
                "name": spec.name,
                "description": spec.description,
                "slots": {name: slot.kind for name, slot in spec.slots.items()},
                "example": example_sentence(spec),
                "sentences": list(spec.sentences),
                "side_effects": spec.side_effects,
                "time_sensitive": spec.time_sensitive,
                "parameters": parameters_schema(spec.slots),
            }
            for spec in skill.intents
        ]
        skills.append(
            {
                "name": skill.name,
                "description": skill.description,
                **_source(_entry_point_of(skill, loadable)),
                "intents": intents,
                "events": sorted(skill.events),
            }
        )
    failed = [
        {"name": name, **_source(eps.get(name)), "error": why}
        for name, why in sorted(skill_set.failed.items())
    ]
    return {"skills": skills, "failed": failed}


def render_text(data: dict[str, Any]) -> str:
    """The listing for people: each skill, its intents (slots, an example), then the failures."""
    lines: list[str] = []
    for skill in data["skills"]:
        origin = f"{skill['distribution']} {skill['version']}" if skill["distribution"] else "unknown package"
        lines.append(f"{skill['name']}: {skill['description']}")
        lines.append(f"  from {origin} ({skill['entry_point'] or '?'})")
        for intent in skill["intents"]:
            lines.append(f"  {skill['name']}.{intent['name']}: {intent['description']}")
            if intent["slots"]:
                slots = ", ".join(f"{name}: {kind}" for name, kind in intent["slots"].items())
                lines.append(f"      slots: {slots}")
            lines.append(f'      e.g. "{intent["example"]}"')
        lines.append("")
    if not data["skills"]:
        lines += ["no skills loaded", ""]
    if data["failed"]:
        lines.append(f"failed to load ({len(data['failed'])}):")
        for failure in data["failed"]:
            origin = (
                f" [{failure['distribution']}: {failure['entry_point']}]" if failure["distribution"] else ""
            )
            lines.append(f"  {failure['name']}{origin}: {failure['error']}")
    return "\n".join(lines).rstrip() + "\n"


def _list(args: argparse.Namespace) -> int:
    # Failures are part of the listing; the registry's own error log lines would only repeat them.
    setup_logging(args.log_level or "critical", args.log_format or "text")
    data = describe(load_skills())
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(render_text(data), end="")
    return 0 if data["skills"] else 1


def _new(args: argparse.Namespace) -> int:
    installed = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    target = create_plugin(args.name, Path(args.dir), taken=installed)
    print(f"created {target}")
    print(f"  skill: src/{package_name(args.name)}/__init__.py   tests: tests/test_{args.name}.py")
    print("next:")
    print(f"  pip install -e {target}")
    print(f"  assistant skills                  # {args.name} is listed")
    print('  assistant ask "roll a die with six sides"')
    print(f"  python -m pytest {target}")
    return 0
