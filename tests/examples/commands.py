"""glance-catalog command lines in shell scripts: finding them (``shell_commands``) and
checking them against the real click command tree (``check_command_line``). Shared by the
tests of the CI examples (test_examples_ci.py) and of the docs' examples (test_docs.py)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence

import click

PROGRAM = "glance-catalog"

_OPERATORS = frozenset({";", ";;", "&", "&&", "|", "||", "(", ")", "|&"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", ">&", "<&", "&>", "&>>", ">|"})
# Words after which the next word is a command again.
_COMMAND_WORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec", "command", "{"}
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def is_program(word: str) -> bool:
    return word == PROGRAM or word.endswith("/" + PROGRAM)


def _logical_lines(script: str) -> Iterator[str]:
    """The script's lines with backslash continuations joined and heredoc bodies left out."""
    lines = iter(script.splitlines())
    pending = ""
    for raw in lines:
        line = pending + raw
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        yield line
        for match in _HEREDOC.finditer(line):
            terminator = match.group(2)
            for body in lines:
                if body.strip() == terminator:
                    break
    if pending:
        yield pending


def shell_commands(script: str) -> list[tuple[str, ...]]:
    """The arguments of every glance-catalog command in a POSIX shell script: the words after
    ``glance-catalog`` where it is in command position, up to the next operator or
    redirection. Quoted text, comments, heredoc bodies and ``pip install glance-catalog``
    are not commands."""
    found = []
    for line in _logical_lines(script):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            words = list(lexer)
        except ValueError as error:
            raise AssertionError(f"cannot split shell line {line!r}: {error}") from error
        for index, word in enumerate(words):
            before = words[index - 1] if index else None
            in_command_position = (
                before is None
                or before in _OPERATORS
                or before in _COMMAND_WORDS
                or bool(_ASSIGNMENT.match(before))
            )
            if not (is_program(word) and in_command_position):
                continue
            argv: list[str] = []
            for following in words[index + 1 :]:
                if following in _OPERATORS or following in _REDIRECTS:
                    # "2>&1": the 2 belongs to the redirection, not to the command.
                    if following in _REDIRECTS and argv and argv[-1].isdigit():
                        argv.pop()
                    break
                argv.append(following)
            found.append(tuple(argv))
    return found


# Checking a command line against the click command tree


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Option]:
    return {
        name: param
        for param in command.get_params(ctx)
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }


def _check_value(where: str, name: str, param: click.Option, value: str) -> list[str]:
    if "$" in value:
        return []  # a shell variable: known only when the job runs
    if isinstance(param.type, click.Choice):
        choices = [str(choice) for choice in param.type.choices]
        if value not in choices:
            return [f"{where}: {name} {value!r} is not one of its choices ({', '.join(choices)})"]
        return []
    try:
        param.type.convert(value, param, None)
    except click.BadParameter as error:
        return [f"{where}: {name} {value!r}: {error.message}"]
    return []


def check_command_line(group: click.Group, argv: Sequence[str]) -> list[str]:
    """What ``PROGRAM ARGV`` would be refused for, one sentence each (empty: accepted): an
    unknown subcommand, an option the subcommand does not have, a value that is not among an
    option's choices, a missing option value or argument. Values holding a shell variable
    are not checked."""
    words = list(argv)
    root = click.Context(group, info_name=PROGRAM, **group.context_settings)
    problems = []
    while words and words[0].startswith("-"):
        word = words.pop(0)
        if word in root.help_option_names:
            return problems
        if word not in _options(group, root):
            problems.append(f"{PROGRAM} has no option {word}")
    if not words:
        return [*problems, "no subcommand"]
    name = words.pop(0)
    command = group.commands.get(name)
    if command is None:
        known = ", ".join(sorted(group.commands))
        return [*problems, f"{PROGRAM} has no subcommand {name!r} (it has: {known})"]
    options = _options(command, click.Context(command, parent=root, info_name=name))
    positional: list[str] = []
    helped = False
    while words:
        word = words.pop(0)
        if word == "--":
            positional.extend(words)
            break
        if not word.startswith("-") or word == "-":
            positional.append(word)
            continue
        option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        param = options.get(option)
        helped = helped or option in root.help_option_names
        if param is None:
            known = ", ".join(sorted(n for n in options if n.startswith("--")))
            problems.append(f"'{name}' has no option {option} (its options: {known})")
            continue
        if param.is_flag or param.count:
            if equals:
                problems.append(f"'{name}': {option} is a flag and takes no value")
            continue
        if not equals:
            if not words:
                problems.append(f"'{name}': {option} needs a value")
                continue
            value = words.pop(0)
        problems.extend(_check_value(f"'{name}'", option, param, value))
    if helped:
        return problems  # --help: click shows the help and checks no arguments
    arguments = [param for param in command.params if isinstance(param, click.Argument)]
    needed = sum(a.nargs if a.nargs > 0 else int(a.required) for a in arguments)
    if len(positional) < needed:
        missing = " ".join(str(a.human_readable_name) for a in arguments)
        problems.append(f"'{name}': missing argument(s) {missing}")
    if all(a.nargs > 0 for a in arguments) and len(positional) > needed:
        problems.append(f"'{name}': unexpected argument(s) {' '.join(positional[needed:])}")
    return problems
